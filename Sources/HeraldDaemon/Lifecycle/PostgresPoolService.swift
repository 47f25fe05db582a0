import HeraldPostgres
import ServiceLifecycle

/// The PostgreSQL connection pool as a service of heraldd's group: it is the first service, so the group
/// stops it last, after the API and every loop that queries it have finished.
///
/// The pool itself starts running when the store is opened, before the group exists, because opening
/// migrates the schema and heraldd recovers its state (leases, shards, event triggers) before the first
/// round (docs/daemon.md). This service owns its end: on graceful shutdown or cancellation it closes the pool.
struct PostgresPoolService: Service {
    let database: PostgresDatabase

    func run() async throws {
        defer { database.close() }
        // Wait for the group's shutdown; cancellation ends the wait too.
        try? await gracefulShutdown()
    }
}
