import Foundation
import HeraldCore
import HeraldLedger
import Hummingbird

extension APIRoutes {
    /// One instance as `GET /v1/journeys/{id}/users/{user}` shows it.
    struct InstanceBody: Encodable {
        var instance: String
        var version: String
        var status: String
        /// The current step (`exit` once ended).
        var step: String
        var reachedAt: Int64
        /// When the daemon looks at it next; absent once ended.
        var dueAt: Int64?
        var enteredAt: Int64
        /// The steps taken, oldest first.
        var path: [StepBody]

        enum CodingKeys: String, CodingKey {
            case instance, version, status, step, path
            case reachedAt = "reached_at"
            case dueAt = "due_at"
            case enteredAt = "entered_at"
        }
    }

    /// One step taken.
    struct StepBody: Encodable {
        var step: String
        var at: Int64
        var outcome: String
        var next: String
    }

    /// `GET /v1/journeys/{id}/users/{user}`: the user's instances of a journey, newest first, each with its
    /// path (docs/api.md). 404 when the user never entered it.
    func journeyUser(_ journey: String, _ user: String) async throws -> Response {
        let instances = try await deps.ledger.journeyInstances(journey: journey, user: user)
        guard !instances.isEmpty else {
            throw APIError(.notFound, "user \(user) has no instance of journey \(journey)")
        }
        var bodies: [InstanceBody] = []
        for i in instances {
            let path = try await deps.ledger.journeyRecords(journey: journey, instance: i.id)
                .filter { $0.user == user }
                .map { StepBody(step: $0.step, at: $0.at, outcome: $0.outcome, next: $0.next) }
            bodies.append(
                InstanceBody(
                    instance: i.id, version: i.version, status: i.status.rawValue, step: i.step,
                    reachedAt: i.reachedAt, dueAt: i.dueAt, enteredAt: i.enteredAt, path: path))
        }
        struct Body: Encodable {
            var journey: String
            var user: String
            var instances: [InstanceBody]
        }
        return APIReply.json(Body(journey: journey, user: user, instances: bodies))
    }
}
