import HeraldConsole
import HeraldCore
import HeraldLedger
import Testing

/// Sessions, CSRF, the sign-in throttle, escaping and the SVG charts, without a server.
@Suite struct ConsolePartsTests {
    @Test func aSessionIsFoundByItsIdUntilItExpiresOrIsRemoved() {
        let sessions = ConsoleSessions()
        let (id, session) = sessions.create(now: 1000)
        #expect(id.count == 64 && session.csrf.count == 64 && id != session.csrf)
        #expect(sessions.session(id, now: 1000 + ConsoleSessions.lifetime - 1) == session)
        #expect(sessions.session(id + "0", now: 1000) == nil)
        #expect(sessions.session(id, now: 1000 + ConsoleSessions.lifetime) == nil)
        let (other, _) = sessions.create(now: 2000)
        sessions.remove(other)
        #expect(sessions.session(other, now: 2000) == nil)
    }

    @Test func csrfMustMatchTheSessionsToken() {
        let (_, session) = ConsoleSessions().create(now: 0)
        #expect(ConsoleSessions.csrfMatches(session.csrf, session))
        #expect(!ConsoleSessions.csrfMatches(nil, session))
        #expect(!ConsoleSessions.csrfMatches("", session))
        #expect(!ConsoleSessions.csrfMatches(String(session.csrf.dropLast()), session))
        let (_, other) = ConsoleSessions().create(now: 0)
        #expect(!ConsoleSessions.csrfMatches(other.csrf, session))
    }

    @Test func failedSignInsAreLimitedPerAddressWithinTheWindow() {
        let throttle = SignInThrottle(limit: 3, window: 60)
        for t in [100, 101, 102] as [Int64] {
            #expect(throttle.retryAfter("10.0.0.1", now: t) == nil)
            throttle.recordFailure("10.0.0.1", now: t)
        }
        #expect(throttle.retryAfter("10.0.0.1", now: 110) == 50)
        #expect(throttle.retryAfter("10.0.0.2", now: 110) == nil)  // another address is not held back
        #expect(throttle.retryAfter("10.0.0.1", now: 160) == nil)  // the first failure left the window
    }

    @Test func escapingCoversTextAndAttributes() {
        #expect(HTML.escape(#"<script>alert("x")</script> & 'y'"#)
            == "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;")
        #expect(HTML.component("a b/c?d&e") == "a%20b%2Fc%3Fd%26e")
    }

    @Test func chartsEscapeLabelsAndDrawOneMarkPerValue() {
        let bars = SVGCharts.bars([("<b>", 3), ("sent", 0)], label: "funnel \"x\"")
        #expect(bars.hasPrefix("<svg") && bars.hasSuffix("</svg>"))
        #expect(!bars.contains("<b>") && bars.contains("&lt;b&gt;") && bars.contains("aria-label=\"funnel &quot;x&quot;\""))
        #expect(bars.components(separatedBy: "<rect").count - 1 == 2)
        let hours = SVGCharts.hours(Array(0..<24), label: "h")
        #expect(hours.components(separatedBy: "<rect").count - 1 == 24)
        var counts = Array(repeating: Array(repeating: 0, count: 24), count: 7)
        counts[0][9] = 4
        let heat = SVGCharts.heatmap(counts, rowNames: ActivityHeatmap.weekdays, label: "a")
        #expect(heat.components(separatedBy: "<rect").count - 1 == 168)
        #expect(heat.contains("<title>Mon 9:00 4</title>") && heat.contains("fill=\"#1f4fb0\""))
    }

    @Test func theHeatmapCountsEventsInTheUsersLocalTime() {
        // 2026-11-02 is a Monday; 23:30 UTC is 08:30 on Tuesday in Tokyo.
        let t: Int64 = 1_793_577_600 + 23 * 3600 + 1800
        #expect(ActivityHeatmap(times: [t], zone: "UTC").counts[0][23] == 1)
        #expect(ActivityHeatmap(times: [t], zone: "Asia/Tokyo").counts[1][8] == 1)
    }

    @Test func localSendHoursUseEachBucketsZoneAndTheDefaultForNone() {
        let q: Int64 = (1_793_577_600 + 9 * 3600) / 900  // 09:00 UTC
        let hours = SendTimeBucket.localHours(
            [SendTimeBucket(zone: "Asia/Kolkata", quarter: q, count: 2), SendTimeBucket(zone: nil, quarter: q, count: 1),
             SendTimeBucket(zone: "Not/AZone", quarter: q, count: 4)],
            defaultZone: "America/New_York")
        #expect(hours[14] == 2)  // 14:30 in India
        #expect(hours[4] == 5)  // 04:00 in New York, for no zone and an unknown one
    }
}
