import HeraldCore
import HeraldLedger

import PostgresNIO

/// Campaign and journey switches on PostgreSQL (docs/operations.md).
extension PostgresLedger: ControlStore {
    public func setControl(subject: String, kind: CampaignControls.Kind, on: Bool, by: String, reason: String?,
                           at: Int64) async throws {
        try await write("setControl") { conn in
            if on {
                try await conn.query(
                    """
                    INSERT INTO controls(subject, kind, at, by, reason) VALUES (\(subject), \(kind.rawValue), \(at), \(by), \(reason))
                    ON CONFLICT (subject, kind) DO UPDATE SET at = excluded.at, by = excluded.by, reason = excluded.reason
                    """, logger: logger)
            } else {
                try await conn.query(
                    "DELETE FROM controls WHERE subject = \(subject) AND kind = \(kind.rawValue)", logger: logger)
            }
            try await conn.query(
                """
                INSERT INTO control_history(subject, kind, turned_on, at, by, reason)
                VALUES (\(subject), \(kind.rawValue), \(on), \(at), \(by), \(reason))
                """, logger: logger)
        }
    }

    public func controls() async throws -> CampaignControls {
        try await read("controls", ifMissing: CampaignControls()) { conn in
            var controls = CampaignControls()
            for try await (subject, kind, at, by, reason) in try await conn.query(
                "SELECT subject, kind, at, by, reason FROM controls", logger: logger
            ).decode((String, String, Int64, String, String?).self) {
                controls.add(subject: subject, kind: kind, at: at, by: by, reason: reason)
            }
            return controls
        }
    }
}
