/// Floor division of epoch milliseconds to epoch seconds (an instant before 1970 rounds down, not toward zero),
/// shared by both stores and ingestion.
@inline(__always) package func secondsOf(millis: Int64) -> Int64 {
    millis >= 0 ? millis / 1000 : -((-millis + 999) / 1000)
}
