import Foundation
import Yams

extension HeraldConfig {
    /// The config path to use: `--config PATH`, else `$HERALD_CONFIG`, else `./herald.yaml` when it
    /// exists, else `/etc/herald/herald.yaml` when it exists; nil when none applies.
    public static func locate(explicit: String?, environment: [String: String]) -> String? {
        if let explicit, !explicit.isEmpty { return explicit }
        if let env = environment["HERALD_CONFIG"], !env.isEmpty { return env }
        for candidate in ["./herald.yaml", "/etc/herald/herald.yaml"]
        where FileManager.default.fileExists(atPath: candidate) {
            return candidate
        }
        return nil
    }

    /// Reads and validates a config file; the snapshot is nil when any error was found.
    public static func load(path: String, environment: [String: String]) -> (HeraldConfig?, [Diagnostic]) {
        let text: String
        switch ConfigFileReader.read(path, what: "config file", limit: ConfigFileReader.maxYAMLBytes) {
        case .success(let t): text = t
        case .failure(let problem):
            let missing = Diagnostic(at: nil, "cannot read config file '\(path)'")
            return (nil, [ConfigFileReader.diagnostic(problem) ?? missing])
        }
        let absolute = URL(fileURLWithPath: path).standardizedFileURL
        return parse(
            yaml: text, file: path, baseDirectory: absolute.deletingLastPathComponent().path,
            environment: environment)
    }

    /// Validates config text; `file` names it in diagnostics, relative paths resolve against `baseDirectory`.
    public static func parse(
        yaml: String, file: String, baseDirectory: String, environment: [String: String]
    ) -> (HeraldConfig?, [Diagnostic]) {
        let y = YAMLFile(file: file, text: yaml)
        let paths = PathResolver(base: baseDirectory, environment: environment, yaml: y)
        guard let root = y.compose(yaml) else {
            if !y.diagnostics.hasErrors { y.report("the config file is empty", at: y.location(nil)) }
            return (nil, y.sorted)
        }
        let known = [
            "store", "campaigns", "templates", "api", "lifecycle", "attributes", "segments", "policy", "channels",
            "ingest", "topics",
        ]
        guard y.isDocument(root, of: "a Herald config file", known: known),
            let m = y.map(root, "herald.yaml", known: known)
        else { return (nil, y.sorted) }

        let store = parseStore(m["store"], y, paths)
        let campaigns = m["campaigns"].flatMap { y.string($0, "campaigns") }.map { paths.absolute($0) }
        let templates = m["templates"].flatMap { y.string($0, "templates") }.map { paths.absolute($0) }
        var isDir: ObjCBool = false
        if let templates, !FileManager.default.fileExists(atPath: templates, isDirectory: &isDir) || !isDir.boolValue {
            y.report("templates: '\(templates)' is not a directory", node: m["templates"])
        }
        let api = parseAPI(m["api"], y, paths)
        let lifecycle = parseLifecycle(m["lifecycle"], y)
        let schema = parseAttributes(m["attributes"], y)
        var segments: [SegmentSource] = []
        for (name, keyNode, value) in y.namedEntries(m["segments"], "segments") {
            guard NameRules.isTopic(name) else {
                y.report("segments: '\(name)' is not a valid segment name; use [a-z0-9][a-z0-9_-]*", node: keyNode)
                continue
            }
            guard let text = y.string(value, "segments.\(name)") else { continue }
            segments.append(SegmentSource(name: name, text: text, origin: y.origin(of: value)))
        }
        let (catalog, segmentDiagnostics) = SegmentCompiler.catalog(segments, schema: schema)
        y.absorb(segmentDiagnostics)
        let topics = parseTopics(m["topics"], y)
        let policy = parsePolicy(m["policy"], y, topics: topics)
        let channels = parseChannels(m["channels"], y, paths)
        let ingest = parseIngest(m["ingest"], y)

        guard !y.diagnostics.hasErrors else { return (nil, y.sorted) }
        let config = HeraldConfig(
            file: file, baseDirectory: baseDirectory, store: store ?? .sqlite(path: "/var/lib/herald/herald.db"),
            campaignsDirectory: campaigns ?? paths.absolute("campaigns"), templatesDirectory: templates, api: api,
            lifecycle: lifecycle, attributes: schema, segments: segments, catalog: catalog, policy: policy,
            channels: channels, ingest: ingest, topics: topics)
        return (config, y.sorted)
    }

    static func parseStore(_ node: Node?, _ y: YAMLFile, _ paths: PathResolver) -> StoreConfig? {
        guard let m = y.map(node, "store", known: ["sqlite", "postgres"]) else { return nil }
        switch (m["sqlite"], m["postgres"]) {
        case (let s?, nil):
            guard let path = y.string(s, "store.sqlite") else { return nil }
            return .sqlite(path: path == ":memory:" ? path : paths.absolute(path))
        case (nil, let p?):
            guard let url = y.string(p, "store.postgres") else { return nil }
            guard url.hasPrefix("postgres://") || url.hasPrefix("postgresql://") else {
                // The URL may carry a password: do not echo it.
                y.report("store.postgres: expected a URL starting with postgres:// or postgresql://", node: p)
                return nil
            }
            return .postgres(url: url)
        case (nil, nil):
            y.report("store: give exactly one of 'sqlite' or 'postgres'", node: node)
        case (_?, _?):
            y.report("store: give exactly one of 'sqlite' or 'postgres', not both", node: m.keyNode("postgres"))
        }
        return nil
    }

    static func parseAPI(_ node: Node?, _ y: YAMLFile, _ paths: PathResolver) -> APIConfig {
        var api = APIConfig()
        guard let m = y.map(node, "api", known: ["listen", "token_file", "public_url", "signing_key_file"]) else { return api }
        if let n = m["listen"], let listen = y.string(n, "api.listen") {
            if let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]),
                (1...65535).contains(port), colon > listen.startIndex
            {
                var host = String(listen[..<colon])
                if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
                api.host = host
                api.port = port
            } else {
                y.report("api.listen: expected HOST:PORT such as 127.0.0.1:8025, got '\(listen)'", node: n)
            }
        }
        api.tokenFile = paths.secretFile(m["token_file"], "api.token_file")
        api.signingKeyFile = paths.secretFile(m["signing_key_file"], "api.signing_key_file")
        if let n = m["public_url"], let url = y.string(n, "api.public_url") {
            if url.hasPrefix("https://") || url.hasPrefix("http://") {
                api.publicURL = url.hasSuffix("/") ? String(url.dropLast()) : url
            } else {
                y.report("api.public_url: expected an http:// or https:// URL, got '\(url)'", node: n)
            }
        }
        return api
    }

    static func parseLifecycle(_ node: Node?, _ y: YAMLFile) -> LifecycleThresholds {
        var t = LifecycleThresholds()
        let keys = ["new_within", "active_within", "dormant_after", "churned_after", "rfm_window"]
        guard let m = y.map(node, "lifecycle", known: keys) else { return t }
        if let v = y.duration(m["new_within"], "lifecycle.new_within") { t.newWithin = v }
        if let v = y.duration(m["active_within"], "lifecycle.active_within") { t.activeWithin = v }
        if let v = y.duration(m["dormant_after"], "lifecycle.dormant_after") { t.dormantAfter = v }
        if let v = y.duration(m["churned_after"], "lifecycle.churned_after") { t.churnedAfter = v }
        if let v = y.duration(m["rfm_window"], "lifecycle.rfm_window") { t.rfmWindow = v }
        if t.dormantAfter <= t.activeWithin {
            y.report(
                "lifecycle: dormant_after (\(DurationSpec.format(t.dormantAfter))) must be longer than active_within (\(DurationSpec.format(t.activeWithin)))",
                node: m.keyNode("dormant_after") ?? node)
        }
        if t.churnedAfter <= t.dormantAfter {
            y.report(
                "lifecycle: churned_after (\(DurationSpec.format(t.churnedAfter))) must be longer than dormant_after (\(DurationSpec.format(t.dormantAfter)))",
                node: m.keyNode("churned_after") ?? node)
        }
        return t
    }

    static func parseAttributes(_ node: Node?, _ y: YAMLFile) -> AttributeSchema {
        var types: [String: AttributeType] = [:]
        let reserved = ReservedField.allCases.map(\.rawValue) + ["user_id"] + Array(messageContextFields)
        let derived = ["lifecycle", "rfm_r", "rfm_f", "rfm_m", "now"]
        for (name, keyNode, value) in y.namedEntries(node, "attributes") {
            if reserved.contains(name) || derived.contains(name) {
                y.report("attributes: '\(name)' is a reserved field and cannot be declared", node: keyNode)
                continue
            }
            guard NameRules.isAttributeName(name) else {
                y.report("attributes: '\(name)' is not a valid attribute name; use [A-Za-z_][A-Za-z0-9_]*", node: keyNode)
                continue
            }
            if let t = y.choice(value, "attributes.\(name)", AttributeType.self) { types[name] = t }
        }
        return AttributeSchema(types)
    }
}

extension NameRules {
    /// `[A-Za-z_][A-Za-z0-9_]*`, so the name is an identifier in segments and templates.
    static func isAttributeName(_ s: String) -> Bool {
        func letter(_ c: Unicode.Scalar) -> Bool { ("a"..."z").contains(c) || ("A"..."Z").contains(c) || c == "_" }
        guard let f = s.unicodeScalars.first, letter(f) else { return false }
        return s.unicodeScalars.allSatisfy { letter($0) || ("0"..."9").contains($0) }
    }
}
