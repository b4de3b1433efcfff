import FlywheelCore
import FlywheelData
import FlywheelLearn
import FlywheelServing
import Foundation
import Hummingbird

/// The Open Inference Protocol (KServe V2): health, server and model metadata, and `infer` with
/// one tensor per feature or one `[N, F]` tensor whose columns follow the signature's order.
struct InferenceController<Context: RequestContext> {
    let runtime: DeploymentRuntime
    let metrics: ServingMetrics
    let maxBodyBytes: Int
    let version: String

    func addRoutes(to router: Router<Context>) {
        router.get("/v2/health/live") { _, _ in Response.json(.object(["live": .bool(true)])) }
        router.get("/v2/health/ready") { _, _ in
            let ready = runtime.isReady
            return Response.json(.object(["ready": .bool(ready)]), status: ready ? .ok : .serviceUnavailable)
        }
        router.get("/v2") { _, _ in
            Response.json(.object(["name": .string("flywheel"), "version": .string(version), "extensions": .array([])]))
        }
        router.get("/v2/models/:name") { _, context in try metadata(context, version: nil) }
        router.get("/v2/models/:name/versions/:version") { _, context in try metadata(context, version: try context.parameters.require("version", as: Int.self)) }
        router.get("/v2/models/:name/ready") { _, context in try modelReady(context) }
        router.get("/v2/models/:name/versions/:version/ready") { _, context in try modelReady(context) }
        router.post("/v2/models/:name/infer") { request, context in try await infer(request, context, version: nil) }
        router.post("/v2/models/:name/versions/:version/infer") { request, context in
            try await infer(request, context, version: try context.parameters.require("version", as: Int.self))
        }
    }

    func plan(_ context: Context) throws -> ServingPlan {
        let name = try context.parameters.require("name")
        guard let p = runtime.plan(name) else { throw FlywheelError.notFound("model (deployment) '\(name)' not found") }
        return p
    }

    func modelReady(_ context: Context) throws -> Response {
        let p = try plan(context)
        let ready = p.routes.contains { $0.model != nil }
        return Response.json(.object(["name": .string(p.spec.name), "ready": .bool(ready)]), status: ready ? .ok : .serviceUnavailable)
    }

    static func datatype(_ t: ColumnType) -> String {
        switch t {
        case .numeric: "FP64"
        case .categorical: "BYTES"
        case .boolean: "BOOL"
        }
    }

    func metadata(_ context: Context, version: Int?) throws -> Response {
        let p = try plan(context)
        let models = p.routes.compactMap(\.model)
        guard let m = version.map({ v in models.first { $0.version == v } }) ?? models.first else {
            throw FlywheelError.notFound("deployment '\(p.spec.name)' has no loaded version\(version.map { " \($0)" } ?? "")")
        }
        let b = m.predictor.bundle
        let outputs: [JSONValue]
        if b.task == .classification {
            outputs = [
                .object(["name": .string("label"), "datatype": .string("BYTES"), "shape": .array([.number(-1)])]),
                .object(["name": .string("probabilities"), "datatype": .string("FP64"),
                         "shape": .array([.number(-1), .number(Double(b.classes?.count ?? 0))])]),
            ]
        } else {
            outputs = [.object(["name": .string("value"), "datatype": .string("FP64"), "shape": .array([.number(-1)])])]
        }
        let inputs: [JSONValue] = b.signature.map { f in
            var o: [String: JSONValue] = ["name": .string(f.name), "datatype": .string(Self.datatype(f.type)), "shape": .array([.number(-1)])]
            if let c = f.categories { o["parameters"] = .object(["categories": .array(c.map(JSONValue.string))]) }
            return .object(o)
        }
        var meta: [String: JSONValue] = [
            "name": .string(p.spec.name), "platform": .string("flywheel"),
            "versions": .array(Array(Set(p.models.map(\.version))).sorted().map { .string(String($0)) }),
            "inputs": .array(inputs), "outputs": .array(outputs),
        ]
        if let classes = b.classes { meta["parameters"] = .object(["classes": .array(classes.map(JSONValue.string)), "model": .string(m.label)]) }
        return Response.json(.object(meta))
    }

    func infer(_ request: Request, _ context: Context, version: Int?) async throws -> Response {
        let started = ContinuousClock.now
        let p = try plan(context)
        metrics.inFlight(1)
        defer { metrics.inFlight(-1) }
        var request = request
        do {
            let body = try await JSONBody.json(&request, limit: maxBodyBytes)
            let value: JSONValue
            do { value = try JSONValue(parsing: body) } catch let e as FlywheelError {
                throw FlywheelError.invalidArgument("the body is not valid JSON: \(e.message)")
            }
            guard let signature = (version.flatMap { v in p.models.first { $0.version == v } } ?? p.routes.compactMap(\.model).first)?
                .predictor.bundle.signature else {
                throw FlywheelError(.unavailable, "deployment '\(p.spec.name)' has no loaded version")
            }
            let records = try InferenceTensors.records(from: value, signature: signature)
            let id = value["id"].flatMap { if case .string(let s) = $0 { s } else { nil } } ?? JSONBody.requestID(request)
            let result = try runtime.predict(deployment: p.spec.name, records: records, requestID: id, pinnedVersion: version)
            let d = ContinuousClock.now - started
            metrics.request(deployment: p.spec.name, version: String(result.version), status: 200,
                            nanoseconds: d.components.seconds * 1_000_000_000 + d.components.attoseconds / 1_000_000_000)
            return Response.json(
                InferenceTensors.response(result, classes: p.models.first { $0.version == result.version }?.predictor.bundle.classes),
                headers: [JSONBody.versionHeader: "\(result.model)/\(result.version)"])
        } catch let e as FlywheelError {
            let d = ContinuousClock.now - started
            metrics.request(deployment: p.spec.name, version: "none", status: Int(ErrorMiddleware<Context>.status(e.code).code),
                            nanoseconds: d.components.seconds * 1_000_000_000 + d.components.attoseconds / 1_000_000_000)
            throw e
        }
    }
}
