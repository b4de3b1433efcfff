import FlywheelCore
import FlywheelServing
import Foundation
import HTTPTypes
import Hummingbird

/// `POST /predict/{deployment}`: one JSON object, or an array of them, in; label and
/// probabilities (or value), the answering version, the request ID and `needs_review` out.
struct PredictController<Context: RequestContext> {
    let runtime: DeploymentRuntime
    let metrics: ServingMetrics
    let maxBodyBytes: Int

    func addRoutes(to router: Router<Context>) {
        router.post("/predict/:deployment") { request, context in try await predict(request, context) }
    }

    func predict(_ request: Request, _ context: Context) async throws -> Response {
        let started = ContinuousClock.now
        let deployment = try context.parameters.require("deployment")
        metrics.inFlight(1)
        defer { metrics.inFlight(-1) }
        var request = request
        do {
            let body = try await JSONBody.json(&request, limit: maxBodyBytes)
            let (records, single) = try RecordDecoder.parseBody(body)
            let headers = request.headers
            let result = try runtime.predict(
                deployment: deployment, records: records, header: { HTTPField.Name($0).flatMap { headers[$0] } },
                requestID: JSONBody.requestID(request))
            let response = Self.encode(result, single: single)
            record(deployment, version: String(result.version), status: 200, started)
            for a in result.answers { if let l = a.label { metrics.predicted(deployment: deployment, version: String(result.version), label: l) } }
            return response
        } catch let e as FlywheelError {
            record(deployment, version: "none", status: Int(ErrorMiddleware<Context>.status(e.code).code), started)
            throw e
        }
    }

    func record(_ deployment: String, version: String, status: Int, _ started: ContinuousClock.Instant) {
        let d = ContinuousClock.now - started
        metrics.request(deployment: deployment, version: version, status: status,
                        nanoseconds: d.components.seconds * 1_000_000_000 + d.components.attoseconds / 1_000_000_000)
    }

    static func encode(_ r: PredictionResult, single: Bool) -> Response {
        var w = JSONWriter()
        var head: [(String, JSONValue)] = [
            ("request_id", .string(r.requestID)), ("deployment", .string(r.deployment)), ("model", .string(r.model)),
            ("version", .number(Double(r.version))),
        ]
        if r.usedFallback { head.append(("fallback", .bool(true))) }
        if single, let a = r.answers.first {
            if case .object(let o) = a.json { head += o.sorted { $0.key < $1.key }.map { ($0.key, $0.value) } } else { head.append(("answer", a.json)) }
        } else {
            head.append(("predictions", .array(r.answers.map(\.json))))
        }
        w.object(head)
        return Response.json(w.bytes, headers: [JSONBody.versionHeader: "\(r.model)/\(r.version)"])
    }
}
