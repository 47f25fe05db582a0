import Foundation
import Testing

@testable import HeraldCore

/// A journey: four header lines, `top` (extra top-level lines), then `steps:` and the steps.
/// Without `top`, `steps:` is line 5 and the first step starts on line 6.
private func journey(_ steps: String, top: String = "") -> String {
    "id: j1\nname: J\naudience: { segment: lifecycle == \"new\" }\ntrigger: { event: signed_up }\n" + top
        + "steps:\n" + steps
}

@Suite("Journey: validation, each error at its node")
struct JourneyValidationTests {
    @Test(
        arguments: [
            // A target that points back to an earlier step.
            (
                "  - id: a\n    wait: 1d\n  - id: b\n    wait: 1d\n    next: a\n",
                "10:11: steps[1].next: 'a' points back to an earlier step (line 6); steps can only lead forward, so a journey cannot loop",
                nil
            ),
            // ... or to its own step.
            (
                "  - id: a\n    wait: 1d\n    next: a\n",
                "8:11: steps[0].next: step 'a' leads to itself; a journey cannot loop", nil
            ),
            (
                "  - id: a\n    wait_for: { event: purchase, within: 1d }\n    on_timeout: a\n",
                "8:17: steps[0].on_timeout: step 'a' leads to itself; a journey cannot loop", nil
            ),
            (
                "  - id: a\n    wait: 1d\n  - id: b\n    branch:\n      - { if: country == \"CN\", goto: a }\n      - { else: exit }\n",
                "10:38: steps[1].branch[0].goto: 'a' points back to an earlier step (line 6); steps can only lead forward, so a journey cannot loop",
                nil
            ),
            (
                "  - id: a\n    wait: 1d\n  - id: b\n    branch:\n      - { if: country == \"CN\", goto: exit }\n      - { else: a }\n",
                "11:17: steps[1].branch[1].else: 'a' points back to an earlier step (line 6); steps can only lead forward, so a journey cannot loop",
                nil
            ),
            // Unknown target, with a suggestion.
            (
                "  - id: welcome\n    wait: 1d\n    next: tisp\n  - id: tips\n    wait: 1d\n",
                "8:11: steps[0].next: unknown step 'tisp'; steps: welcome, tips, exit", "did you mean 'tips'?"
            ),
            (
                "  - id: a\n    wait_for: { event: purchase, within: 1d }\n    on_event: exti\n",
                "8:15: steps[0].on_event: unknown step 'exti'; steps: a, exit", "did you mean 'exit'?"
            ),
            // Step ids.
            (
                "  - id: a\n    wait: 1d\n  - id: a\n    wait: 2d\n",
                "8:9: steps[1].id: duplicate step id 'a' (first used at line 6)", nil
            ),
            (
                "  - id: Day_1\n    wait: 1d\n",
                "6:9: steps[0].id: 'Day_1' is not a valid name; use [a-z0-9][a-z0-9-]*", nil
            ),
            (
                "  - id: exit\n    wait: 1d\n",
                "6:9: steps[0].id: 'exit' is reserved: as a target it ends the journey", nil
            ),
            ("  - wait: 1d\n", "6:5: steps[0]: missing required key 'id'", nil),
            // Unreachable.
            (
                "  - id: a\n    wait: 1d\n    next: c\n  - id: b\n    wait: 1d\n  - id: c\n    wait: 1d\n",
                "9:9: steps[1]: step 'b' is unreachable: no step leads to it", nil
            ),
            // Branch: else is required, and last.
            (
                "  - id: a\n    branch:\n      - { if: country == \"CN\", goto: exit }\n",
                "8:7: steps[0].branch: a branch needs a last arm { else: STEP } for users no condition matches",
                nil
            ),
            (
                "  - id: a\n    branch:\n      - { else: exit }\n      - { if: country == \"CN\", goto: exit }\n",
                "8:11: steps[0].branch[0].else: else must be the last arm of a branch", nil
            ),
            (
                "  - id: a\n    branch:\n      - { else: exit }\n",
                "8:7: steps[0].branch: a branch needs at least one { if: EXPR, goto: STEP } arm before else",
                nil
            ),
            (
                "  - id: a\n    branch:\n      - { if: country == \"CN\" }\n      - { else: exit }\n",
                "8:9: steps[0].branch[0]: missing required key 'goto'", nil
            ),
            (
                "  - id: a\n    branch:\n      - { if: countyr == \"CN\", goto: exit }\n      - { else: exit }\n",
                "8:15: unknown field 'countyr'", "did you mean 'country'?"
            ),
            // Split.
            (
                "  - id: a\n    split: [ { percent: 90, goto: exit }, { percent: 5, goto: exit } ]\n",
                "7:12: steps[0].split: percentages sum to 95, expected 100", nil
            ),
            (
                "  - id: a\n    split: [ { percent: 0, goto: exit }, { percent: 100, goto: exit } ]\n",
                "7:25: steps[0].split[0].percent: expected a percentage greater than 0 and at most 100 such as 10, got '0'",
                nil
            ),
            (
                "  - id: a\n    split: [ { percent: 120%, goto: exit } ]\n",
                "7:25: steps[0].split[0].percent: expected a percentage greater than 0 and at most 100 such as 10, got '120%'",
                nil
            ),
            (
                "  - id: a\n    split: [ { percent: 100 } ]\n",
                "7:14: steps[0].split[0]: missing required key 'goto'", nil
            ),
            // Waits.
            (
                "  - id: a\n    wait: 366d\n",
                "7:11: steps[0].wait: 366d is longer than the longest wait, 365d", nil
            ),
            ("  - id: a\n    wait: 0h\n", "7:11: steps[0].wait: wait must be longer than 0", nil),
            (
                "  - id: a\n    wait: soon\n",
                "7:11: steps[0].wait: expected a duration such as 2d, got 'soon'", nil
            ),
            (
                "  - id: a\n    wait_for: { event: purchase, within: 53w }\n",
                "7:42: steps[0].wait_for.within: 53w is longer than the longest wait, 365d", nil
            ),
            (
                "  - id: a\n    wait_for: { event: purchase }\n",
                "7:15: steps[0].wait_for: missing required key 'within' (how long to wait for the event before on_timeout)",
                nil
            ),
            (
                "  - id: a\n    wait: { until: \"9am\" }\n",
                "7:20: steps[0].wait.until: expected a local time such as \"09:30\", got '9am'", nil
            ),
            (
                "  - id: a\n    wait: { until: \"09:00\", days: [mon, tues] }\n",
                "7:41: steps[0].wait.days: expected day names sun, mon, tue, wed, thu, fri, sat, got 'tues'",
                "did you mean 'tue'?"
            ),
            // Unknown keys, with a suggestion.
            (
                "  - id: a\n    wait: 1d\n    nxt: exit\n",
                "8:5: unknown key 'nxt' in steps[0]; known keys: id, message, wait, wait_for, branch, split, send_time, on_capped, next, on_event, on_timeout",
                "did you mean 'next'?"
            ),
            (
                "  - id: a\n    wait_for: { event: purchase, within: 1d, wehre: x > 1 }\n",
                "7:46: unknown key 'wehre' in steps[0].wait_for; known keys: event, within, where",
                "did you mean 'where'?"
            ),
            (
                "  - id: a\n    branch:\n      - { if: country == \"CN\", goto: exit, then: exit }\n      - { else: exit }\n",
                "8:44: unknown key 'then' in steps[0].branch[0]; known keys: if, goto, else", nil
            ),
            // Kinds.
            (
                "  - id: a\n    wait: 1d\n    split: [ { percent: 100, goto: exit } ]\n",
                "8:5: steps[0]: a step has exactly one of message, wait, wait_for, branch, split; found wait and split",
                nil
            ),
            (
                "  - id: a\n    next: exit\n",
                "6:5: steps[0]: a step needs one of message, wait, wait_for, branch, split", nil
            ),
            (
                "  - id: a\n    wait: 1d\n    on_event: exit\n",
                "8:5: steps[0].on_event only applies to wait_for steps, not to a wait step", nil
            ),
            (
                "  - id: a\n    branch:\n      - { if: country == \"CN\", goto: exit }\n      - { else: exit }\n    next: exit\n",
                "10:5: steps[0].next only applies to message steps and wait steps, not to a branch step", nil
            ),
            (
                "  - id: a\n    message: { channel: sms, sms: { text: hi } }\n    on_capped: wait\n",
                "8:16: steps[0].on_capped: expected one of defer, skip, got 'wait'", nil
            ),
            // Message bodies go through the campaign message checks.
            (
                "  - id: a\n    message: { channel: sms, sms: { text: \"{{frist_name}}\" } }\n",
                "7:44: steps[0].message.sms.text: unknown template field 'frist_name'; templates can use profile fields, declared attributes, user_id, unsubscribe_url, campaign_id and variant",
                "did you mean 'first_name'?"
            ),
        ] as [(String, String, String?)])
    func stepErrors(steps: String, expected: String, suggestion: String?) {
        let (content, diags) = JourneyFixture.parse(journey(steps))
        #expect(content == nil)
        let errors = diags.filter(\.isError)
        #expect(ConfigFixture.brief(errors) == [expected])
        #expect(errors.first?.suggestion == suggestion)
        #expect(errors.first?.location?.file == "j.yaml")
    }

    @Test(arguments: [
        ("", "5:1: steps: a journey needs at least one step"),
        (" []", "5:8: steps: a journey needs at least one step"),
        (" 3", "5:8: steps: expected a list of steps, got '3'"),
    ])
    func journeyWithoutSteps(value: String, expected: String) {
        let text =
            "id: j1\nname: J\naudience: { segment: lifecycle == \"new\" }\ntrigger: { api: true }\nsteps:"
            + value + "\n"
        #expect(JourneyFixture.errors(text) == [expected])
    }

    @Test(arguments: [
        (
            "message: { channel: sms, sms: { text: hi } }\n",
            "5:1: message: a file has either message: (a campaign) or steps: (a journey), not both"
        ),
        (
            "send_time: { strategy: immediate }\n",
            "5:1: send_time: in a journey, send_time belongs to each message step"
        ),
        (
            "experiment: { holdout: 10% }\n",
            "5:1: experiment: a journey has no experiment; use a split step for random paths"
        ),
        (
            "status: paused\nentry: { re_entry: sometimes }\n",
            "6:20: entry.re_entry: expected never, always or { after: 30d }, got 'sometimes'"
        ),
        (
            "entry: { re_entry: { after: never } }\n",
            "5:29: entry.re_entry.after: expected a duration such as 30d, got 'never'"
        ),
        (
            "exit_when: [ { event: purchase, segment: country == \"CN\" } ]\n",
            "5:33: exit_when[0]: give either event or segment, not both"
        ),
        (
            "exit_when: [ { segment: sent(\"a\") } ]\n",
            "5:25: sent() can only be used in a journey's branch conditions"
        ),
        ("status: stoped\n", "5:9: status: expected one of active, paused, draft, stopped, got 'stoped'"),
        ("topic: newsletter\n", "5:8: topic: topic 'newsletter' is not declared"),
        (
            "steps_: []\n",
            "5:1: unknown key 'steps_' in journey; known keys: id, name, status, topic, priority, transactional, audience, trigger, limits, conversion, entry, exit_when, steps"
        ),
    ])
    func topLevelErrors(top: String, expected: String) {
        let errors = JourneyFixture.errors(journey("  - { id: a, wait: 1d }\n", top: top))
        #expect(errors.count == 1)
        #expect(errors.first?.hasPrefix(expected) == true, "\(errors)")
    }

    @Test func stoppedAndEntryForms() throws {
        let j = try #require(
            JourneyFixture.journey(
                journey("  - { id: a, wait: 1d }\n", top: "status: stopped\nentry: { re_entry: always }\n")))
        #expect(j.status == .stopped && j.reEntry == .always)
        #expect(j.messageCampaign(for: j.steps[0]) == nil)
    }

    /// Every problem of a file is reported, not only the first; unreachability is not judged on a broken graph.
    @Test func everyProblemAtOnce() {
        let steps =
            "  - id: a\n    wait: 400d\n    next: nowhere\n  - id: b\n    wait: 1d\n  - id: a\n    wait: 1d\n"
        #expect(
            JourneyFixture.errors(journey(steps)) == [
                "7:11: steps[0].wait: 400d is longer than the longest wait, 365d",
                "8:11: steps[0].next: unknown step 'nowhere'; steps: a, b, exit",
                "11:9: steps[2].id: duplicate step id 'a' (first used at line 6)",
            ])
    }

    /// A wait_for.where error points into the file, past the `where:` key.
    @Test func whereErrorsAreLocatedInTheFile() {
        let yaml = """
            id: j1
            name: J
            audience: { segment: lifecycle == "new" }
            trigger: { api: true }
            steps:
              - id: a
                wait_for:
                  event: purchase
                  within: 1d
                  where: amount >= 10 and last("purchase") > now
            """
        #expect(
            JourneyFixture.errors(yaml) == [
                "10:31: functions such as last() are not available in wait_for.where"
            ])
    }
}
