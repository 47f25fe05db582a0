import Yams

/// What ingestion accepts (herald.yaml `ingest:`): the rules are in docs/api.md.
public struct IngestConfig: Sendable, Hashable {
    /// How far past the receiving clock an event's timestamp may be, seconds. A later one is refused: a send
    /// it triggered or a cap it counted toward would sit in the future for as long as that is.
    public var maxFutureSkew: Int64

    /// The default allows 24 hours of skew (clients with a wrong clock, time zones written wrong).
    public init(maxFutureSkew: Int64 = 86_400) {
        self.maxFutureSkew = maxFutureSkew
    }

    /// The latest event time accepted at `now` (epoch seconds), epoch milliseconds.
    public func latestEventMillis(now: Int64) -> Int64 { (now + maxFutureSkew) * 1000 }
}

extension HeraldConfig {
    /// `ingest: { max_future_skew: 24h }`.
    static func parseIngest(_ node: Node?, _ y: YAMLFile) -> IngestConfig {
        var ingest = IngestConfig()
        guard let m = y.map(node, "ingest", known: ["max_future_skew"]) else { return ingest }
        if let v = y.duration(m["max_future_skew"], "ingest.max_future_skew") { ingest.maxFutureSkew = v }
        return ingest
    }
}
