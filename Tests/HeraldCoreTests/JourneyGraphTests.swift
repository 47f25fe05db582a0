import Foundation
import Testing

@testable import HeraldCore

@Suite("Journey: graph rendering")
struct JourneyGraphTests {
    @Test func text() throws {
        let j = try #require(JourneyFixture.journey(runnableJourney))
        #expect(
            JourneyGraph.render(j, format: .text) == """
                journey onboarding: Onboarding series (active), version 6027368a9a9a
                entry: re_entry after 30d
                exit when: event purchase; segment lifecycle == "churned"

                1. welcome: message email, immediate within 1d
                   done → day-1

                2. day-1: wait until 09:00 on mon,tue,wed,thu,fri
                   done → tips

                3. tips: message webhook, best_time within 1d
                   done → await-purchase

                4. await-purchase: wait_for purchase where amount >= 10 within 2d
                   event → exit
                   timeout → pick-channel

                5. pick-channel: branch
                   if opened("welcome") or clicked("welcome") → coupon-email
                   else → control-split

                6. coupon-email: message email, immediate within 1d
                   done → exit

                7. control-split: split
                   90% → coupon-sms
                   10% → exit

                8. coupon-sms: message sms, immediate within 1d, on_capped skip
                   done → exit

                """)
    }

    @Test func dot() throws {
        let j = try #require(JourneyFixture.journey(runnableJourney))
        #expect(
            JourneyGraph.render(j, format: .dot) == #"""
                digraph "onboarding" {
                  rankdir=TB;
                  node [shape=box, fontname="Helvetica"];
                  edge [fontname="Helvetica"];
                  "entry" [shape=circle, label="entry"];
                  "step:welcome" [shape=box, label="welcome\nmessage email, immediate within 1d"];
                  "step:day-1" [shape=box, style=rounded, label="day-1\nwait until 09:00 on mon,tue,wed,thu,fri"];
                  "step:tips" [shape=box, label="tips\nmessage webhook, best_time within 1d"];
                  "step:await-purchase" [shape=box, style=rounded, label="await-purchase\nwait_for purchase where amount >= 10 within 2d"];
                  "step:pick-channel" [shape=diamond, label="pick-channel\nbranch"];
                  "step:coupon-email" [shape=box, label="coupon-email\nmessage email, immediate within 1d"];
                  "step:control-split" [shape=diamond, label="control-split\nsplit"];
                  "step:coupon-sms" [shape=box, label="coupon-sms\nmessage sms, immediate within 1d, on_capped skip"];
                  "exit" [shape=doublecircle, label="exit"];
                  "entry" -> "step:welcome";
                  "step:welcome" -> "step:day-1";
                  "step:day-1" -> "step:tips";
                  "step:tips" -> "step:await-purchase";
                  "step:await-purchase" -> "exit" [label="event"];
                  "step:await-purchase" -> "step:pick-channel" [label="timeout"];
                  "step:pick-channel" -> "step:coupon-email" [label="if opened(\"welcome\") or clicked(\"welcome\")"];
                  "step:pick-channel" -> "step:control-split" [label="else"];
                  "step:coupon-email" -> "exit";
                  "step:control-split" -> "step:coupon-sms" [label="90%"];
                  "step:control-split" -> "exit" [label="10%"];
                  "step:coupon-sms" -> "exit";
                }

                """#)
    }

    @Test func mermaid() throws {
        let j = try #require(JourneyFixture.journey(runnableJourney))
        #expect(
            JourneyGraph.render(j, format: .mermaid) == """
                flowchart TD
                  entry(("entry"))
                  s0["welcome<br/>message email, immediate within 1d"]
                  s1("day-1<br/>wait until 09:00 on mon,tue,wed,thu,fri")
                  s2["tips<br/>message webhook, best_time within 1d"]
                  s3("await-purchase<br/>wait_for purchase where amount #gt;= 10 within 2d")
                  s4{"pick-channel<br/>branch"}
                  s5["coupon-email<br/>message email, immediate within 1d"]
                  s6{"control-split<br/>split"}
                  s7["coupon-sms<br/>message sms, immediate within 1d, on_capped skip"]
                  exit((("exit")))
                  entry --> s0
                  s0 --> s1
                  s1 --> s2
                  s2 --> s3
                  s3 -->|"event"| exit
                  s3 -->|"timeout"| s4
                  s4 -->|"if opened(#quot;welcome#quot;) or clicked(#quot;welcome#quot;)"| s5
                  s4 -->|"else"| s6
                  s5 --> exit
                  s6 -->|"90%"| s7
                  s6 -->|"10%"| exit
                  s7 --> exit

                """)
    }

    /// Multi-line conditions print on one line; quotes, backslashes and markup are escaped for each format.
    @Test func minimalJourneyAndEscaping() throws {
        let yaml = """
            id: j1
            name: J
            audience: { segment: lifecycle == "new" }
            trigger: { api: true }
            steps:
              - id: pick
                branch:
                  - if: |
                      country == "a\\\\b"
                        or country < "<M>#"
                    goto: w
                  - { else: w }
              - { id: w, wait: 90m }
            """
        let j = try #require(JourneyFixture.journey(yaml))
        let edges = JourneyGraph.edges(j.steps[0])
        #expect(edges.map(\.label) == [#"if country == "a\\b" or country < "<M>#""#, "else"])
        let dot = JourneyGraph.render(j, format: .dot)
        #expect(
            dot.contains(
                #""step:pick" -> "step:w" [label="if country == \"a\\\\b\" or country < \"<M>#\""];"#))
        let mermaid = JourneyGraph.render(j, format: .mermaid)
        #expect(
            mermaid.contains(
                #"s0 -->|"if country == #quot;a\\b#quot; or country #lt; #quot;#lt;M#gt;#35;#quot;"| s1"#))
        #expect(JourneyGraph.render(j, format: .text).contains("2. w: wait 1h30m\n   done → exit\n"))
    }
}
