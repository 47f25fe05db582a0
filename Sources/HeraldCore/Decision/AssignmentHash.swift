/// A stable, unseeded hash for experiment assignment and send spreading (never `Hasher`, whose seed is random).
///
/// FNV-1a over the UTF-8 bytes of the parts (each followed by 0xFF), then the SplitMix64 finaliser so
/// that nearby inputs spread over the whole 64-bit range.
public enum AssignmentHash {
    /// The 64-bit hash of `parts`.
    public static func hash(_ parts: String...) -> UInt64 { hash(parts) }

    /// The 64-bit hash of `parts`.
    public static func hash(_ parts: [String]) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for part in parts {
            for b in part.utf8 {
                h ^= UInt64(b)
                h = h &* 0x0000_0100_0000_01b3
            }
            h ^= 0xFF
            h = h &* 0x0000_0100_0000_01b3
        }
        return mix(h)
    }

    /// A number in [0, 1) from `hash(parts)`.
    public static func unit(_ parts: String...) -> Double {
        Double(hash(parts) >> 11) / Double(UInt64(1) << 53)
    }

    /// SplitMix64's finaliser.
    static func mix(_ x: UInt64) -> UInt64 {
        var z = x &+ 0x9e37_79b9_7f4a_7c15
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}

/// Holdout and variant assignment (docs/decisions.md): a pure function of campaign id and user id.
public enum ExperimentAssignment {
    /// The group of one user: holdout, or a variant id (nil when the campaign has no variants).
    public enum Group: Sendable, Hashable {
        /// In the control group: logged, never sent.
        case holdout
        /// Sent; the variant id, or nil when the campaign has no variants.
        case variant(String?)
    }

    /// The group of `user` in `campaign`'s experiment; no experiment puts everyone in `.variant(nil)`.
    public static func group(campaign: String, user: String, experiment: Campaign.Experiment?) -> Group {
        guard let experiment else { return .variant(nil) }
        // Two independent draws: holdout membership never depends on the variant weights.
        if experiment.holdoutPercent > 0,
            AssignmentHash.unit("holdout", campaign, user) * 100 < experiment.holdoutPercent
        {
            return .holdout
        }
        let variants = experiment.variants
        guard !variants.isEmpty else { return .variant(nil) }
        let total = variants.reduce(0) { $0 + max($1.weight, 0) }
        guard total > 0 else { return .variant(variants[0].id) }
        var point = AssignmentHash.unit("variant", campaign, user) * total
        for v in variants {
            point -= max(v.weight, 0)
            if point < 0 { return .variant(v.id) }
        }
        return .variant(variants[variants.count - 1].id)
    }
}
