import Foundation
import Testing

@testable import HeraldCore

@Suite("Winner decisions")
struct ExperimentWinnerTests {
    private func arms(_ counts: (String, Int, Int)...) -> [ArmStats] {
        counts.map { ArmStats(id: $0.0, sent: $0.1, successes: $0.2) }
    }

    @Test("a significant two-arm result names the winner, both rates, z and p")
    func significantReason() throws {
        let d = try WinnerTest.decide(
            arms: arms(("a", 10000, 320), ("b", 10000, 410)), confidence: 0.95, ifNoWinner: .stop)
        #expect(d.winner == "b")
        #expect(d.reason == "b beats a: 4.1% vs 3.2%, z=3.39, p=0.00069 < 0.05")
        #expect(d.statistic.map { $0 > 0 } == true, "z is positive when the second arm is better")
    }

    @Test("a significant result over three arms picks the highest rate and reports χ²")
    func chiSquareReason() throws {
        let d = try WinnerTest.decide(
            arms: arms(("a", 10000, 300), ("b", 10000, 400), ("c", 10000, 500)), confidence: 0.95,
            ifNoWinner: .first)
        #expect(d.winner == "c")
        #expect(
            d.reason == "c has the highest rate: 5.0% vs a 3.0%, b 4.0%; χ²=52.08 (df 2), p=4.9e-12 < 0.05")
    }

    @Test("no winner: each if_no_winner, and the reason says which applied")
    func noWinner() throws {
        let counts = arms(("a", 1000, 32), ("b", 1000, 41))
        let best = try WinnerTest.decide(arms: counts, confidence: 0.95, ifNoWinner: .best)
        let first = try WinnerTest.decide(arms: counts, confidence: 0.95, ifNoWinner: .first)
        let stop = try WinnerTest.decide(arms: counts, confidence: 0.95, ifNoWinner: .stop)
        #expect(best.winner == "b" && first.winner == "a" && stop.winner == nil)
        #expect(!best.significant && !first.significant && !stop.significant)
        #expect(
            best.reason
                == "no significant difference: a 3.2% vs b 4.1%, z=1.07, p=0.28 ≥ 0.05; if_no_winner: best → b (4.1%)"
        )
        #expect(stop.reason.hasSuffix("if_no_winner: stop → nothing more is sent"))
    }

    @Test("ties go to the arm listed first, under `best` and under a significant χ²")
    func ties() throws {
        let even = try WinnerTest.decide(
            arms: arms(("a", 400, 20), ("b", 200, 10)), confidence: 0.95, ifNoWinner: .best)
        #expect(even.winner == "a")
        let top = try WinnerTest.decide(
            arms: arms(("x", 5000, 100), ("a", 5000, 250), ("b", 5000, 250)), confidence: 0.95,
            ifNoWinner: .stop)
        #expect(top.significant && top.winner == "a")
    }

    @Test("an arm with no sends is left out of the test and cannot win under `best`")
    func zeroSendArm() throws {
        let d = try WinnerTest.decide(
            arms: arms(("a", 0, 0), ("b", 1000, 30), ("c", 1000, 35)), confidence: 0.95, ifNoWinner: .best)
        #expect(d.test?.kind == .zTest)
        #expect(d.winner == "c")
        #expect(d.arms[0].rate == nil)
        // `first` still means the arm listed first, sends or not.
        let first = try WinnerTest.decide(arms: d.arms, confidence: 0.95, ifNoWinner: .first)
        #expect(first.winner == "a")
    }

    @Test("no test possible: reasons, and `best` falls back to the first listed arm when nothing was sent")
    func untestable() throws {
        let none = try WinnerTest.decide(
            arms: arms(("a", 0, 0), ("b", 0, 0)), confidence: 0.95, ifNoWinner: .best)
        #expect(none.winner == "a" && none.test == nil)
        #expect(
            none.reason
                == "no test: fewer than two arms sent anything (sent: a 0, b 0); if_no_winner: best → a")
        let zero = try WinnerTest.decide(
            arms: arms(("a", 50, 0), ("b", 70, 0)), confidence: 0.95, ifNoWinner: .stop)
        #expect(zero.winner == nil && zero.pValue == nil)
        #expect(zero.reason.hasPrefix("no test: no sent message met the metric in any arm"))
    }

    @Test("bad input is an error naming the arm or setting")
    func inputErrors() {
        #expect(throws: WinnerTest.InputError.noArms) {
            try WinnerTest.decide(arms: [], confidence: 0.95, ifNoWinner: .best)
        }
        #expect(throws: WinnerTest.InputError.duplicateArm("a")) {
            try WinnerTest.decide(arms: arms(("a", 1, 0), ("a", 1, 0)), confidence: 0.95, ifNoWinner: .best)
        }
        #expect(throws: WinnerTest.InputError.successesExceedSent(arm: "b", successes: 5, sent: 4)) {
            try WinnerTest.decide(arms: arms(("a", 1, 0), ("b", 4, 5)), confidence: 0.95, ifNoWinner: .best)
        }
        #expect(throws: WinnerTest.InputError.negativeCount(arm: "a")) {
            try WinnerTest.decide(arms: arms(("a", -1, 0)), confidence: 0.95, ifNoWinner: .best)
        }
        for bad in [0.0, 1.0, 95.0, -0.5, .nan] {
            #expect(throws: WinnerTest.InputError.self) {
                try WinnerTest.decide(arms: arms(("a", 1, 0)), confidence: bad, ifNoWinner: .best)
            }
        }
        #expect(WinnerTest.InputError.confidenceOutOfRange(95).description.contains("0.95 for 95%"))
    }

    @Test("a p-value next to the threshold is printed with enough digits to show its side")
    func pValueDigits() {
        let alpha = 1 - 0.95
        #expect(WinnerReason.pValue(0.0496, alpha: alpha) == "0.0496")
        #expect(WinnerReason.pValue(0.0504, alpha: alpha) == "0.0504")
        #expect(WinnerReason.pValue(0.021, alpha: alpha) == "0.021")
        #expect(WinnerReason.pValue(0.31, alpha: alpha) == "0.31")
        #expect(WinnerReason.number(alpha) == "0.05")
    }

    @Test("a decision survives a JSON round trip (for the ledger)")
    func codable() throws {
        let d = try WinnerTest.decide(
            arms: arms(("a", 10000, 320), ("b", 10000, 410)), confidence: 0.95, ifNoWinner: .best)
        let back = try JSONDecoder().decode(WinnerDecision.self, from: JSONEncoder().encode(d))
        #expect(back == d)
    }
}
