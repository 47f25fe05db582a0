import HeraldCore
import HeraldPostgres
import HeraldLedger

extension PostgresFixture {
    /// The migrations a daemon runs on a new database: the store's, then the ledger's.
    static var migrations: [(name: String, sql: String)] { PostgresStore.migrations + PostgresLedger.migrations }

    /// The PostgreSQL store on `database`, with the tests' clock.
    static func store(_ database: PostgresDatabase, schema: AttributeSchema) -> any HeraldAudience {
        PostgresStore(database: database, schema: schema, clock: testClock)
    }

    /// The PostgreSQL ledger on `database`.
    static func ledger(_ database: PostgresDatabase) -> any DispatchLedger {
        PostgresLedger(database: database)
    }
}
