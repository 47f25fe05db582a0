import Foundation
import Testing

@testable import HeraldCore

@Suite("Config: herald.yaml diagnostics")
struct ConfigHeraldYAMLTests {
    /// (yaml, expected "LINE:COL: message prefix", expected suggestion)
    @Test(arguments: [
        ("store: { sqlite: x.db }\npolcy:\n  default_timezone: UTC\n",
         "2:1: unknown key 'polcy' in herald.yaml; known keys: store, campaigns, templates, api, lifecycle, attributes, segments, policy, channels, ingest, topics",
         "did you mean 'policy'?"),
        ("lifecycle:\n  dormant_after: soon\n",
         "2:18: lifecycle.dormant_after: expected a duration such as 30d, got 'soon'", nil),
        ("policy:\n  default_timezone: Europe/Berln\n",
         "2:21: policy.default_timezone: unknown time zone 'Europe/Berln'", "did you mean 'Europe/Berlin'?"),
        ("store:\n  sqlite: a.db\n  postgres: postgres://h/db\n",
         "3:3: store: give exactly one of 'sqlite' or 'postgres', not both", nil),
        ("store: {}\n", "1:8: store: give exactly one of 'sqlite' or 'postgres'", nil),
        ("attributes:\n  email: string\n", "2:3: attributes: 'email' is a reserved field and cannot be declared", nil),
        ("attributes:\n  score: numbr\n",
         "2:10: attributes.score: expected one of string, number, bool, timestamp, list, got 'numbr'",
         "did you mean 'number'?"),
        ("channels:\n  email:\n    rate: 50/sec\n",
         "3:11: channels.email.rate: expected a rate such as 50/s, 300/m or 1000/h, got '50/sec'", nil),
        ("channels:\n  email:\n    quota: 50/s\n",
         "3:12: channels.email.quota: expected a daily quota such as 10000/day, got '50/s'", nil),
        ("channels:\n  email:\n    from: \"Shop news@shop\"\n",
         "3:11: channels.email.from: expected a mailbox such as \"Shop <news@shop.example>\", got 'Shop news@shop'", nil),
        ("channels:\n  email:\n    url: http://smtp.example\n",
         "3:10: channels.email.url: expected an smtp:// or smtps:// URL", nil),
        ("channels:\n  sms:\n    provider: kanel\n",
         "3:15: channels.sms.provider: expected one of kannel, twilio, http, got 'kanel'", "did you mean 'kannel'?"),
        ("policy:\n  caps:\n    - { chanel: sms, max: 1, per: 1d }\n",
         "3:9: unknown key 'chanel' in policy.caps[0]; known keys: channel, topic, max, per", "did you mean 'channel'?"),
        ("policy:\n  caps:\n    - { topic: Promo, max: 0, per: 1d }\n",
         "3:16: policy.caps[0].topic: 'Promo' is not a valid name; use [a-z0-9][a-z0-9_-]*", nil),
        ("policy:\n  quiet_hours: { from: \"25:00\", to: \"08:00\" }\n",
         "2:24: policy.quiet_hours.from: expected a local time such as \"09:30\", got '25:00'", nil),
        ("templates: no-such-dir\n", "1:12: templates: '", nil),
        ("channels:\n  sms:\n    from: \"+1 555\"\n",
         "3:11: channels.sms.from: expected an E.164 number such as +15550001111", nil),
        ("lifecycle:\n  active_within: 30d\n  dormant_after: 30d\n",
         "3:3: lifecycle: dormant_after (30d) must be longer than active_within (30d)", nil),
        ("api:\n  listen: localhost\n",
         "2:11: api.listen: expected HOST:PORT such as 127.0.0.1:8025, got 'localhost'", nil),
        ("segments:\n  VIP Users: rfm_m >= 4\n",
         "2:3: segments: 'VIP Users' is not a valid segment name; use [a-z0-9][a-z0-9_-]*", nil),
        ("store:\n  sqlite: [a\n", "3:1: malformed YAML", nil),
        ("store: x\n  y: z\n", "2:4: malformed YAML: mapping values are not allowed in this context", nil),
        ("store: { sqlite: a }\nstore: { sqlite: b }\n",
         "2:1: duplicate key 'store' in a mapping (first defined at line 1)", nil),
        ("policy:\n  caps: []\n  adaptive_caps: true\n\n  caps: []\n",
         "5:3: duplicate key 'caps' in a mapping (first defined at line 2)", nil),
    ] as [(String, String, String?)])
    func reportsLocatedError(yaml: String, expected: String, suggestion: String?) {
        let (config, diags) = ConfigFixture.parseConfig(yaml)
        #expect(config == nil)
        let briefs = ConfigFixture.brief(diags)
        #expect(briefs.contains { $0.hasPrefix(expected) }, "\(briefs)")
        if let suggestion { #expect(diags.contains { $0.suggestion == suggestion }, "\(diags)") }
        #expect(diags.allSatisfy { $0.location?.file == "herald.yaml" && $0.sourceLine != nil })
    }

    @Test func reportsEveryErrorInOneFile() {
        let yaml = """
            store: { sqlite: a.db }
            lifecycle:
              new_within: tomorrow
              dormant_after: 30x
            policy:
              default_timezone: Mars/Olympus
              adaptive_caps: maybe
            chanels: {}
            """
        let (config, diags) = ConfigFixture.parseConfig(yaml)
        #expect(config == nil)
        #expect(ConfigFixture.brief(diags) == [
            "3:15: lifecycle.new_within: expected a duration such as 30d, got 'tomorrow'",
            "4:18: lifecycle.dormant_after: expected a duration such as 30d, got '30x'",
            "6:21: policy.default_timezone: unknown time zone 'Mars/Olympus'",
            "7:18: policy.adaptive_caps: expected true or false, got 'maybe'",
            "8:1: unknown key 'chanels' in herald.yaml; known keys: store, campaigns, templates, api, lifecycle, attributes, segments, policy, channels, ingest, topics",
        ])
    }

    @Test func sourceLineAndCaretAreRendered() throws {
        let (_, diags) = ConfigFixture.parseConfig("lifecycle:\n  dormant_after: soon\n")
        let d = try #require(diags.first)
        #expect(d.description == """
            herald.yaml:2:18: error: lifecycle.dormant_after: expected a duration such as 30d, got 'soon'
              dormant_after: soon
                             ^~~~
            """)
    }

    @Test func secretFilesAreExpandedResolvedAndNeverRead() throws {
        let dir = ConfigFixture.tempDir()
        ConfigFixture.write("s3cr3t-token-value", to: "creds/api-token", in: dir)
        ConfigFixture.write("smtp-pa55word", to: "creds/smtp", in: dir)
        let yaml = """
            api:
              token_file: ${CREDENTIALS_DIRECTORY}/api-token
            channels:
              email:
                url: smtps://herald:inline-pa55@smtp.example:465
                password_file: creds/smtp
                from: nobody
            """
        let (config, diags) = ConfigFixture.parseConfig(
            yaml, env: ["CREDENTIALS_DIRECTORY": dir.appendingPathComponent("creds").path], base: dir)
        #expect(config == nil)
        #expect(ConfigFixture.brief(diags) == [
            "7:11: channels.email.from: expected a mailbox such as \"Shop <news@shop.example>\", got 'nobody'"
        ])
        for d in diags {
            #expect(!d.description.contains("s3cr3t"))
            #expect(!d.description.contains("pa55"))
        }
        let fixed = yaml.replacingOccurrences(of: "from: nobody", with: "from: \"Shop <news@shop.example>\"")
        let (ok, none) = ConfigFixture.parseConfig(
            fixed, env: ["CREDENTIALS_DIRECTORY": dir.appendingPathComponent("creds").path], base: dir)
        #expect(none.isEmpty)
        #expect(ok?.api.tokenFile == dir.appendingPathComponent("creds/api-token").path)
        #expect(ok?.channels.email?.passwordFile == dir.appendingPathComponent("creds/smtp").path)
    }

    @Test func unreadableSecretIsAnErrorNamingTheField() {
        let dir = ConfigFixture.tempDir()
        let yaml = "api:\n  token_file: ${CREDS}/api-token\nchannels:\n  sms:\n    password_file: ${NOPE}/x\n"
        let (config, diags) = ConfigFixture.parseConfig(yaml, env: ["CREDS": dir.path], base: dir)
        #expect(config == nil)
        #expect(ConfigFixture.brief(diags) == [
            "2:15: api.token_file: cannot read '\(dir.path)/api-token': no such file",
            "5:20: channels.sms.password_file: environment variable 'NOPE' is not set",
        ])
    }

    @Test func postgresPasswordIsMaskedInSourceLines() throws {
        let (_, diags) = ConfigFixture.parseConfig("store:\n  postgres: postgres://herald:hunter2@db/herald\n  sqlite: a.db\n")
        let d = try #require(diags.first)
        #expect(!d.description.contains("hunter2"))
        #expect(d.description.contains("postgres://herald:***@db/herald"))
    }

    @Test func invalidUTF8IsLocated() throws {
        let dir = ConfigFixture.tempDir()
        let url = dir.appendingPathComponent("herald.yaml")
        var bytes = Array("store:\n  sqlite: caf".utf8)
        bytes += [0xC3, 0x28, 0x0A]
        try Data(bytes).write(to: url)
        let (config, diags) = HeraldConfig.load(path: url.path, environment: [:])
        #expect(config == nil)
        #expect(diags.map { "\($0.location?.line ?? 0):\($0.location?.column ?? 0): \($0.message)" } == [
            "2:14: the file is not valid UTF-8 (byte 0xC3)"
        ])
    }

    @Test func relativePathsResolveAgainstTheConfigDirectory() throws {
        let dir = ConfigFixture.tempDir()
        let url = ConfigFixture.write("store: { sqlite: db/h.db }\ncampaigns: c\nchannels: { outbox: out }\n", to: "etc/herald.yaml", in: dir)
        let (config, diags) = HeraldConfig.load(path: url.path, environment: [:])
        #expect(diags.isEmpty)
        let c = try #require(config)
        let etc = dir.appendingPathComponent("etc").standardizedFileURL.path
        #expect(c.store == .sqlite(path: etc + "/db/h.db"))
        #expect(c.campaignsDirectory == etc + "/c")
        #expect(c.channels.outbox == etc + "/out")
        #expect(c.templatesDirectory == nil)
    }
}

@Suite("Config: segment origins in herald.yaml")
struct ConfigSegmentOriginTests {
    @Test func originsFollowTheScalarStyle() throws {
        let yaml = """
            segments:
              plain: rfm_m >= 4
              quoted: "rfm_f >= 4"
              single: 'rfm_r >= 2'
              block: |
                lifecycle == "active"
                  and rfm_m >= 3
              padded: |-

                  country == "CN"
            attributes:
              country: string
            """
        let (config, diags) = ConfigFixture.parseConfig(yaml)
        #expect(diags.isEmpty, "\(diags)")
        let byName = Dictionary(uniqueKeysWithValues: try #require(config).segments.map { ($0.name ?? "", $0) })
        func at(_ n: String) -> [Int] {
            guard let o = byName[n]?.origin else { return [] }
            return [o.line, o.column, o.continuationColumn]
        }
        #expect(at("plain") == [2, 10, 10])
        #expect(at("quoted") == [3, 12, 12])
        #expect(at("single") == [4, 12, 12])
        #expect(at("block") == [6, 5, 5])
        #expect(byName["block"]?.text == "lifecycle == \"active\"\n  and rfm_m >= 3\n")
        #expect(at("padded") == [9, 7, 7])
        #expect(byName["padded"]?.text == "\ncountry == \"CN\"")
    }
}
