import HeraldCore
import HeraldLedger

/// Opens the PostgreSQL store and ledger on one database.
public enum PostgresBackend {
    /// Every migration, audience tables first (the ledger's funnel reads them).
    public static var migrations: [(name: String, sql: String)] { PostgresStore.migrations + PostgresLedger.migrations }

    /// Migrates `database` (once, whichever daemon comes first) and returns its store and ledger.
    public static func open(_ database: PostgresDatabase, schema: AttributeSchema) async throws
        -> (PostgresStore, PostgresLedger)
    {
        try await database.migrate(migrations)
        return (PostgresStore(database: database, schema: schema), PostgresLedger(database: database))
    }
}
