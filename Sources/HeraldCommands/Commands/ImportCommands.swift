import ArgumentParser
import Foundation
import HeraldCore
import HeraldLedger
import HeraldIngest

/// Shared by `users import` and `events import`: runs the importer with a progress line and prints the report.
enum ImportRunner {
    /// Imports `file`, printing progress on a terminal and the report after; exit 65 when rows were rejected.
    static func run(
        _ options: ConfigOption, file: String, users: Bool, format: ImportFormat?
    ) async throws {
        let chosen = format ?? (file.lowercased().hasSuffix(".csv") ? .csv : .ndjson)
        if !users && chosen == .csv {
            Console.err(
                "error: \(file): events are imported from ndjson or segment files, not csv; "
                    + "give --format ndjson or --format segment if it holds those")
            throw ReportedFailure(code: ExitStatus.usage)
        }
        let context = try HeraldContext.load(options)
        guard FileManager.default.isReadableFile(atPath: file) else {
            Console.err("error: \(file): no such readable file")
            throw ReportedFailure(code: ExitStatus.invalidInput)
        }
        let (store, ledger) = try await context.openBackend()
        var importer = Importer(store: store, schema: context.config.attributes)
        let now = Int64(Date().timeIntervalSince1970)
        importer.latestEventMillis = context.config.ingest.latestEventMillis(now: now)
        // Imported events end and answer running journey instances at once, as the API's do.
        let journeys = ImportJourneyEvents(
            ledger: ledger, config: context.config,
            journeys: CampaignSet.loadAll(directory: context.config.campaignsDirectory, config: context.config).journeys)
        importer.watchedEvents = journeys.watched
        importer.onWatchedEvents = { events in try await journeys.apply(events) }
        let progress = ProgressLine(label: users ? "users " : "events")
        let started = Date()
        let report: ImportReport
        do {
            report =
                users
                ? try await importer.importUsers(path: file, format: chosen) {
                    progress.update(done: $0.bytesRead, total: $0.totalBytes, rows: $0.rows)
                }
                : try await importer.importEvents(path: file, format: chosen) {
                    progress.update(done: $0.bytesRead, total: $0.totalBytes, rows: $0.rows)
                }
        } catch {
            progress.finish()
            Console.err("error: \(file): \(error)")
            throw ReportedFailure(code: ExitStatus.unavailable)
        }
        progress.finish()
        for d in report.diagnostics { Console.err(d.description) }
        let seconds = max(Date().timeIntervalSince(started), 0.001)
        Console.out(
            "\(file): \(report.read) rows read, \(report.inserted) inserted, \(report.updated) updated, "
                + "\(report.unchanged) unchanged, \(report.rejected) rejected in \(String(format: "%.2f", seconds)) s")
        let moved = journeys.moved.withLock { $0 }
        if moved > 0 { Console.out("journeys: \(moved) instance\(moved == 1 ? "" : "s") moved by imported events") }
        if report.rejected > 0 { throw ReportedFailure(code: ExitStatus.invalidInput) }
    }
}

extension ImportFormat: ExpressibleByArgument {}

/// `herald users import FILE`.
struct UsersImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import users from NDJSON, CSV or Segment-spec NDJSON (idempotent: upsert by id).",
        discussion: "Bad rows are reported with their line numbers; good rows go in. Exit 65 when any row was rejected.")

    @OptionGroup var options: ConfigOption
    @Argument(help: "The file to import.") var file: String
    @Option(help: "ndjson, csv or segment (default: by extension).") var format: ImportFormat?

    func run() async throws {
        try await ImportRunner.run(options, file: file, users: true, format: format)
    }
}

/// `herald events import FILE`.
struct EventsImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import events from NDJSON or Segment-spec NDJSON (idempotent: de-duplicated).",
        discussion: "Bad rows are reported with their line numbers; good rows go in. Exit 65 when any row was rejected.")

    @OptionGroup var options: ConfigOption
    @Argument(help: "The file to import.") var file: String
    @Option(help: "ndjson or segment (default: ndjson).") var format: ImportFormat?

    func validate() throws {
        if format == .csv {
            throw ValidationError("--format csv: events are imported from ndjson or segment files (csv is for users)")
        }
    }

    func run() async throws {
        try await ImportRunner.run(options, file: file, users: false, format: format)
    }
}

/// `herald events …`.
struct EventsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "events", abstract: "Import events.", subcommands: [EventsImportCommand.self])
}
