import HeraldStore
import PostgresNIO

/// The PostgreSQL store: several `heraldd` sharing one audience (SPEC §2 `store.postgres`).
public enum HeraldPostgres {}
