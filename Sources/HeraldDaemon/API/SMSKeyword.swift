/// What an inbound SMS asks for (docs/daemon.md, the 2025 TCPA revocation rules).
enum SMSKeyword: Sendable, Hashable {
    /// Stop all SMS to this number.
    case optOut
    /// Start SMS again.
    case optIn
    /// Send the help text.
    case help

    /// Words that revoke consent, alone or in short natural text ("please stop").
    static let optOutWords: Set<String> = [
        "stop", "stopall", "unsubscribe", "cancel", "end", "quit", "revoke", "optout", "td", "退订",
    ]
    /// Words that give consent back, only as the whole message.
    static let optInWords: Set<String> = ["start", "unstop", "yes"]
    /// Words that ask for help, only as the whole message.
    static let helpWords: Set<String> = ["help", "info"]
    /// The most words a message may have for an opt-out word inside it to count.
    static let shortText = 6

    /// The keyword of `text`, or nil for an ordinary reply. Opting out wins over everything else: a
    /// message that reasonably reads as "stop" is honoured.
    static func classify(_ text: String) -> SMSKeyword? {
        let words = self.words(text)
        guard !words.isEmpty else { return nil }
        if words.count <= shortText, words.contains(where: optOutWords.contains) { return .optOut }
        // Chinese text has no spaces: 退订 inside a short message ("我要退订") counts too.
        if text.count <= 20, text.contains("退订") { return .optOut }
        if words.count == 1, optInWords.contains(words[0]) { return .optIn }
        if words.count == 1, helpWords.contains(words[0]) { return .help }
        return nil
    }

    /// Lowercased words, split at anything that is not a letter or digit ("opt-out" → "opt", "out"; "STOP!" → "stop").
    static func words(_ text: String) -> [String] {
        var lowered = text.lowercased()
        // "opt out" and "opt-out" are common spellings of OPTOUT.
        for spelling in ["opt out", "opt-out", "opt_out"] {
            lowered = lowered.replacingOccurrences(of: spelling, with: "optout")
        }
        return lowered.split(whereSeparator: { !($0.isLetter || $0.isNumber) }).map(String.init)
    }
}
