import Foundation
import GovernorCore
import GovernorStore
import GovernorWire
import HTTPTypes
import Hummingbird
import Logging

/// Quiet times for the built-in alerts: `GET /v1/silences` under the operator token,
/// `POST /v1/silences` and `DELETE /v1/silences/{id}` under it too (and, without
/// one, only from this machine). Who made or removed a silence and why goes to the
/// governor's log.
struct SilenceController: Sendable {
    let live: LiveConfiguration
    let database: any SilenceStore
    let silences: SilenceReadModel
    let clock: ServerClock
    let logger: Logger

    /// Who removes a silence, as `governor silence remove` says (the body of a DELETE is empty).
    static let author = HTTPField.Name("X-Governor-Author")!

    func addRoutes(to router: Router<GovernorRequestContext>) {
        router.group().add(middleware: OperatorAuthenticator(live: live))
            .get("/v1/silences", use: list)
        router.group().add(middleware: OperatorAuthenticator(live: live, writes: true))
            .post("/v1/silences", use: add)
            .delete("/v1/silences/:id", use: remove)
    }

    /// Those in force and to come, then those that ended in the last day.
    @Sendable func list(request: Request, context: GovernorRequestContext) async throws -> SilenceList {
        let now = clock.seconds
        let all = try await database.silences(endedAfter: now - 86_400)
        let ordered = all.filter { $0.endedAt > now } + all.filter { $0.endedAt <= now }
        return SilenceList(silences: ordered.map { SilenceView($0, now: now) })
    }

    @Sendable func add(request: Request, context: GovernorRequestContext) async throws -> EditedResponse<SilenceCreated> {
        let body = try await request.body.collect(upTo: 16 * 1024)
        let asked: SilenceRequest
        do {
            asked = try JSONDecoder().decode(SilenceRequest.self, from: body)
        } catch {
            throw APIError.badRequest("the body is not a silence: \(error)")
        }
        let snapshot = context.configuration(or: live)
        let now = clock.seconds
        let silence = try Self.silence(from: asked, snapshot: snapshot, now: now)
        let stored = try await database.addSilence(silence)
        silences.put(stored)
        let notes = Self.notes(on: stored, snapshot: snapshot)
        logger.notice("silence added", metadata: [
            "silence": "\(stored.id ?? 0)", "of": "\(stored.matcher.description)", "until": "\(RFC3339.format(stored.endsAt))",
            "by": "\(stored.author)", "reason": "\(stored.reason)", "from": "\(context.clientAddress)",
        ])
        return EditedResponse(status: .created, response: SilenceCreated(silence: SilenceView(stored, now: now), notes: notes))
    }

    @Sendable func remove(request: Request, context: GovernorRequestContext) async throws -> SilenceView {
        let text = try context.parameters.require("id")
        guard let id = Int64(text) else { throw APIError.badRequest("the silence id '\(text)' is not a number") }
        let now = clock.seconds
        guard let removed = try await database.removeSilence(id: id, at: now) else {
            throw APIError.notFound("no silence \(id) is in force or to come; 'governor silence list' shows them")
        }
        silences.put(removed)
        logger.notice("silence removed", metadata: [
            "silence": "\(id)", "of": "\(removed.matcher.description)", "from": "\(context.clientAddress)",
            "by": "\(request.headers[Self.author] ?? "unknown")",
        ])
        return SilenceView(removed, now: now)
    }

    /// The silence a request asks for, checked against the configuration: one thing
    /// that exists, an end in the future within a year, a reason.
    static func silence(from asked: SilenceRequest, snapshot: LiveConfiguration.Snapshot, now: UnixTime) throws(APIError) -> Silence {
        let given = [asked.school.map { _ in "school" }, asked.probe.map { _ in "probe" }, asked.label.map { _ in "label" }].compactMap { $0 }
        guard given.count == 1 else {
            throw APIError.badRequest("name exactly one of 'school', 'probe' and 'label' (got \(given.isEmpty ? "none" : given.joined(separator: ", ")))")
        }
        let matcher: Silence.Matcher
        if let school = asked.school {
            guard snapshot.schools[school] != nil else { throw APIError.badRequest("no school is named '\(school)'") }
            matcher = .school(school)
        } else if let probe = asked.probe {
            guard snapshot.probes[probe] != nil else { throw APIError.badRequest("no probe is named '\(probe)'") }
            matcher = .probe(probe)
        } else {
            let text = asked.label ?? ""
            switch SchoolLabels.parse(text) {
            case .failure(let problem): throw APIError.badRequest("'label' is '\(text)': \(problem.message)")
            case .success(let label):
                guard snapshot.configuration.schools.contains(where: { $0.labels[label.key] == label.value }) else {
                    throw APIError.badRequest("no school has the label \(label)")
                }
                matcher = .label(label)
            }
        }
        let end: UnixTime
        switch (asked.until, asked.duration) {
        case (let until?, nil):
            guard let instant = RFC3339.parse(until) else {
                throw APIError.badRequest("'until' is '\(until)'; expected an RFC 3339 time such as 2026-12-08T18:00:00Z")
            }
            end = instant
        case (nil, let duration?):
            guard let seconds = DurationValue.seconds(duration) else {
                throw APIError.badRequest("'for' is '\(duration)'; expected a duration such as 90m, 4h or 2d")
            }
            end = now + min(UnixTime(seconds), Silence.longestSeconds + 1)
        default:
            throw APIError.badRequest("give exactly one of 'until' (an RFC 3339 time) and 'for' (a duration such as 4h)")
        }
        guard end > now else { throw APIError.badRequest("the silence would end at \(RFC3339.format(end)), which has passed") }
        guard end - now <= Silence.longestSeconds else {
            throw APIError.badRequest("a silence lasts at most 366 days; a longer closure belongs in the school's calendar ('closed' in its file)")
        }
        let reason = asked.reason.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !reason.isEmpty, reason.utf8.count <= Silence.longestReason, !reason.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw APIError.badRequest("'reason' must say why, in one line of at most \(Silence.longestReason) bytes")
        }
        let author = (asked.author ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        return Silence(matcher: matcher, startsAt: now, endsAt: end, reason: reason,
                       author: author.isEmpty || author.utf8.count > 200 ? "unknown" : author)
    }

    /// What the operator should know of a new silence: the schools it covers that are
    /// closed by their calendar for all of it, which need none.
    static func notes(on silence: Silence, snapshot: LiveConfiguration.Snapshot) -> [String] {
        silence.closedSchools(among: snapshot.schoolsByName).map(Silence.closedNote)
    }
}
