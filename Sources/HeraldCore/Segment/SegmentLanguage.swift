// The segment language (docs/segments.md) as implemented here, with the choices the spec leaves open.
//
// Syntax
//   Precedence, loosest first: or < and < not < comparison (== != < <= > >= in contains)
//   < + - < * / < unary minus; parentheses group. Comparisons do not chain (`1 < x < 3` is an
//   error: join them with `and`). `and`/`or` chains are flat, so 10,000 `or`s are fine; any other
//   nesting deeper than 128 levels is reported as an error (never a stack overflow).
//   Literals: numbers (`3`, `2.5`), strings in double quotes with \" \\ \n \t escapes, true/false,
//   durations `30d 12h 15m 45s 2w` and compounds `1d12h`, lists of string or number literals.
//
// Names
//   Event, property and segment names in count/sum/avg/last/first/in_segment are either string
//   literals or bare identifiers: `count("purchase", 30d)` and `count(purchase, 30d)` are the same.
//   A bare identifier there is always a name, never a field. Any event or property name is allowed;
//   a name the audience has never seen simply has no events. Windows must be duration literals.
//
// Types: number, string, bool, timestamp, duration, list of strings, list of numbers.
//   number ± * / number → number (x / 0 is null); timestamp ± duration → timestamp;
//   timestamp - timestamp → duration; duration ± duration → duration; -number, -duration.
//   Comparisons need both sides of one type; bools only == and !=; lists only `in` / `contains`.
//   `x in [..]` / `x in tags` / `x not in [..]` (= `not (x in [..])`, so true for a null x); `tags contains "vip"` (exact element); `name contains "an"` (substring).
//   `birthday` is the timestamp of its midnight UTC; `last_seen_at` is the derived "seen" time.
//
// Null
//   A missing attribute is null. Any comparison, `in` or `contains` with a null operand is false,
//   so `x != 1` is false and `not (x == 1)` is true when x is null. Arithmetic with null is null.
//   A null bool used as a condition counts as false (`not flag` is true when flag is null).
//   count() and sum() of no events are 0; avg() of none, last()/first() of none, days_since(null),
//   engagement() without sends and RFM scores without purchases are null.
//
// Time
//   A window w covers now - w <= t <= now to the second; events after `now` never count, and
//   last()/first() only see events at or before now. days_since(t) is whole days, rounded down.
//   Lifecycle thresholds: "within w" means t >= now - w. RFM R is whole days since the last purchase.

/// Names the segment language knows, for help texts and editors.
public enum SegmentLanguage {
    /// The functions, in the order of docs/segments.md.
    public static let functions = SegmentChecker.functions
    /// The derived fields: lifecycle, rfm_r, rfm_f, rfm_m, now.
    public static let derivedFields = ["lifecycle", "rfm_r", "rfm_f", "rfm_m", "now"]
    /// The deepest nesting accepted.
    public static let maxDepth = SegmentParser.maxDepth
}
