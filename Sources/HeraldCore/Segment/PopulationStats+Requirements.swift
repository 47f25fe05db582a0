extension PopulationStats {
    /// What a snapshot must hold for `compute` to find RFM scores: `purchase` events with `amount`.
    public static let requirements = SnapshotRequirements(
        events: ["purchase"], eventNumbers: ["purchase": ["amount"]])
}
