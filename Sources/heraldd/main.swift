import Foundation
import HeraldCore
import HeraldStore

// heraldd, for now: loads and validates the config and campaigns and opens the store, then says plainly
// that scheduling and dispatch are not built yet. The daemon proper arrives with its own issue.

func log(_ line: String) { FileHandle.standardError.write(Data(("heraldd: " + line + "\n").utf8)) }

let arguments = CommandLine.arguments
var explicit: String?
if let i = arguments.firstIndex(of: "--config"), i + 1 < arguments.count { explicit = arguments[i + 1] }
let environment = ProcessInfo.processInfo.environment
guard let path = HeraldConfig.locate(explicit: explicit, environment: environment) else {
    log("no herald.yaml found: pass --config PATH, set HERALD_CONFIG, or create /etc/herald/herald.yaml")
    exit(64)
}
let (loaded, diagnostics) = HeraldConfig.load(path: path, environment: environment)
diagnostics.forEach { log($0.description) }
guard let config = loaded, !diagnostics.hasErrors else { exit(65) }
let (campaigns, campaignDiagnostics) = CampaignSet.load(directory: config.campaignsDirectory, config: config)
campaignDiagnostics.forEach { log($0.description) }
if campaignDiagnostics.hasErrors { exit(65) }
guard case .sqlite(let dbPath) = config.store else {
    log("only the sqlite store is available in this build")
    exit(69)
}
do {
    let store = try SQLiteStore(path: dbPath, schema: config.attributes)
    let counts = try await store.counts()
    log("config \(path) ok; \(campaigns.count) campaigns; store \(dbPath): \(counts.users) users, \(counts.events) events")
} catch {
    log("cannot open the store at \(dbPath): \(error)")
    exit(69)
}
log("scheduling and dispatch are not built yet; nothing will be sent. Use `herald` to validate and preview.")
exit(69)
