import HeraldCore
import HeraldStore
public enum PostgresBackend {
    public static func open(_ database: PostgresDatabase, schema: AttributeSchema) async throws
        -> (any HeraldAudience, any DispatchLedger)
    { throw PostgresStoreError("the PostgreSQL store is not available in this build yet") }
}
