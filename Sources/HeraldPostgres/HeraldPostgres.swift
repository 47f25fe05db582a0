import HeraldLedger
import PostgresNIO

/// The PostgreSQL store: several `heraldd` sharing one audience (docs/campaigns.md `store.postgres`).
public enum HeraldPostgres {}
