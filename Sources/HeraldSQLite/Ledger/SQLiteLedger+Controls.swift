import GRDB
import HeraldCore
import HeraldLedger

/// Campaign and journey switches on SQLite (docs/operations.md).
extension SQLiteLedger: ControlStore {
    static func registerControls(_ m: inout DatabaseMigrator) {
        m.registerMigration("controls-v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE controls (
                      subject TEXT NOT NULL, kind TEXT NOT NULL, at INTEGER NOT NULL, by TEXT NOT NULL, reason TEXT,
                      PRIMARY KEY (subject, kind));
                    CREATE TABLE control_history (
                      id INTEGER PRIMARY KEY, subject TEXT NOT NULL, kind TEXT NOT NULL, turned_on INTEGER NOT NULL,
                      at INTEGER NOT NULL, by TEXT NOT NULL, reason TEXT);
                    """)
        }
    }

    public func setControl(subject: String, kind: CampaignControls.Kind, on: Bool, by: String, reason: String?,
                           at: Int64) async throws {
        try await pool.write { db in
            if on {
                try db.execute(
                    sql: """
                        INSERT INTO controls(subject, kind, at, by, reason) VALUES (?, ?, ?, ?, ?)
                        ON CONFLICT(subject, kind) DO UPDATE SET at = excluded.at, by = excluded.by, reason = excluded.reason
                        """, arguments: [subject, kind.rawValue, at, by, reason])
            } else {
                try db.execute(sql: "DELETE FROM controls WHERE subject = ? AND kind = ?", arguments: [subject, kind.rawValue])
            }
            try db.execute(
                sql: "INSERT INTO control_history(subject, kind, turned_on, at, by, reason) VALUES (?, ?, ?, ?, ?, ?)",
                arguments: [subject, kind.rawValue, on, at, by, reason])
        }
    }

    public func controls() async throws -> CampaignControls {
        try await pool.read { db in
            var controls = CampaignControls()
            for r in try Row.fetchAll(db, sql: "SELECT subject, kind, at, by, reason FROM controls") {
                controls.add(subject: r[0], kind: r[1], at: r[2], by: r[3], reason: r[4])
            }
            return controls
        }
    }
}
