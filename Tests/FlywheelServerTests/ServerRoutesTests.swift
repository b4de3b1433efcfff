import FlywheelCore
import FlywheelServer
import FlywheelServing
import FlywheelTesting
import Foundation
import HTTPTypes
import Hummingbird
import Testing

/// The HTTP surface through Hummingbird's router test client, on a fresh in-memory store.
@Suite struct ServerRoutesTests {
    static let virginica = #"{"sepal_length":6.7,"sepal_width":3.0,"petal_length":5.2,"petal_width":2.3}"#
    static let setosa = #"{"sepal_length":5.0,"sepal_width":3.4,"petal_length":1.5,"petal_width":0.2}"#

    /// An app serving deployment `iris` (iris@production, version 1, a 10-tree forest).
    /// Registers iris version 1 (a 10-tree forest) as iris@production and deploys it as `iris`.
    func prepare(_ f: ServingFixture, maxBody: Int = 1 << 20, deployment: String = "deployment: iris\nroutes: [iris@production]\n") async throws
        -> ServerConfiguration
    {
        try await f.register("iris", alias: "production")
        try await f.deploy(deployment)
        return ServerConfiguration(maxBodyBytes: maxBody)
    }

    static func json(_ body: ByteBuffer) throws -> JSONValue {
        try JSONDecoder().decode(JSONValue.self, from: Data(body.readableBytesView))
    }

    static let jsonHeaders: HTTPFields = [.contentType: "application/json"]

    @Test func predictOneRecordAndAnArray() async throws {
        let f = ServingFixture()
        let configuration = try await prepare(f)
        try await LiveServer.with(f, configuration: configuration) { app, client in
            try await client.execute(uri: "/predict/iris", method: .post, headers: Self.jsonHeaders, body: ByteBuffer(string: Self.virginica)) { r in
                #expect(r.status == .ok)
                #expect(r.headers[HTTPField.Name("x-flywheel-version")!] == "iris/1")
                let body = try Self.json(r.body)
                #expect(body["label"] == .string("virginica"))
                #expect(body["version"] == .number(1))
                #expect(body["needs_review"] == .bool(false))
                guard case .object(let p)? = body["probabilities"] else { Issue.record("no probabilities"); return }
                #expect(p.keys.sorted() == ["setosa", "versicolor", "virginica"])
                let total = p.values.reduce(0.0) { sum, v in
                    guard case .number(let d) = v else { return sum }
                    return sum + d
                }
                #expect(abs(total - 1) < 1e-9)
                guard case .string(let id)? = body["request_id"] else { Issue.record("no request id"); return }
                #expect(id.count == 32)
            }
            // curl -d sends application/x-www-form-urlencoded: a JSON body is still read.
            try await client.execute(
                uri: "/predict/iris", method: .post, headers: [.contentType: "application/x-www-form-urlencoded", .init("x-request-id")!: "abc-1"],
                body: ByteBuffer(string: "[\(Self.setosa),\(Self.virginica)]")
            ) { r in
                #expect(r.status == .ok)
                let body = try Self.json(r.body)
                #expect(body["request_id"] == .string("abc-1"))
                guard case .array(let preds)? = body["predictions"] else { Issue.record("no predictions"); return }
                #expect(preds.map { $0["label"] } == [.string("setosa"), .string("virginica")])
            }
        }
    }

    @Test(arguments: [
        ("{\"sepal_length\":6.7,\"sepal_width\":3.0,\"petal_length\":5.2}", 400, "record 0: missing field 'petal_width' (numeric)"),
        ("[\(setosa), {\"sepal_length\":\"6.7\",\"sepal_width\":3.0,\"petal_length\":5.2,\"petal_width\":2.3}]", 400,
         "record 1: field 'sepal_length' is a string: expected a number"),
        ("{\"sepal_length\":6.7,\"sepal_width\":3.0,\"petal_length\":5.2,\"petal_width\":2.3,\"ssn\":\"1\"}", 400, "record 0: field 'ssn' is not an input"),
        ("{\"sepal_length\":6.7,", 400, "the body is not valid JSON"),
        ("[]", 400, "empty array"),
        ("[1, 2]", 400, "record 0: expected a JSON object"),
        ("\"text\"", 400, "the body must be a JSON object"),
    ])
    func badBodiesGet400NamingTheProblem(_ body: String, _ status: Int, _ message: String) async throws {
        let f = ServingFixture()
        let configuration = try await prepare(f)
        try await LiveServer.with(f, configuration: configuration) { app, client in
            try await client.execute(uri: "/predict/iris", method: .post, headers: Self.jsonHeaders, body: ByteBuffer(string: body)) { r in
                #expect(Int(r.status.code) == status)
                let e = try Self.json(r.body)
                #expect(e["error"]?["code"] == .string("invalid_argument"))
                guard case .string(let m)? = e["error"]?["message"] else { Issue.record("no message"); return }
                #expect(m.contains(message), "\(m)")
            }
        }
    }

    @Test func sizeTypeAndNameErrors() async throws {
        let f = ServingFixture()
        let configuration = try await prepare(f, maxBody: 200)
        try await LiveServer.with(f, configuration: configuration) { app, client in
            let big = "[" + Array(repeating: Self.setosa, count: 20).joined(separator: ",") + "]"
            try await client.execute(uri: "/predict/iris", method: .post, headers: Self.jsonHeaders, body: ByteBuffer(string: big)) { r in
                #expect(r.status == .contentTooLarge)
                let parsed = try Self.json(r.body)
                #expect(parsed["error"]?["code"] == .string("payload_too_large"))
            }
            try await client.execute(uri: "/predict/iris", method: .post, headers: [.contentType: "text/csv"], body: ByteBuffer(string: "a,b")) { r in
                #expect(r.status == .unsupportedMediaType)
                let parsed = try Self.json(r.body)
                #expect(parsed["error"]?["code"] == .string("unsupported_media_type"))
            }
            try await client.execute(uri: "/predict/nope", method: .post, headers: Self.jsonHeaders, body: ByteBuffer(string: Self.setosa)) { r in
                #expect(r.status == .notFound)
                let parsed = try Self.json(r.body)
                #expect(parsed["error"]?["message"] == .string("deployment 'nope' not found"))
            }
        }
    }

    @Test func openInferenceProtocol() async throws {
        let f = ServingFixture()
        let configuration = try await prepare(f)
        try await LiveServer.with(f, configuration: configuration) { app, client in
            try await client.execute(uri: "/v2/health/live", method: .get) { #expect($0.status == .ok) }
            try await client.execute(uri: "/v2/health/ready", method: .get) { r in
                #expect(r.status == .ok)
                let parsed = try Self.json(r.body)
                #expect(parsed["ready"] == .bool(true))
            }
            try await client.execute(uri: "/v2", method: .get) { r in
                let parsed = try Self.json(r.body)
                #expect(parsed["name"] == .string("flywheel"))
            }
            try await client.execute(uri: "/v2/models/iris", method: .get) { r in
                let m = try Self.json(r.body)
                #expect(m["versions"] == .array([.string("1")]))
                guard case .array(let inputs)? = m["inputs"] else { Issue.record("no inputs"); return }
                #expect(inputs.map { $0["name"] } == ["sepal_length", "sepal_width", "petal_length", "petal_width"].map(JSONValue.string))
                #expect(inputs.allSatisfy { $0["datatype"] == .string("FP64") })
            }
            try await client.execute(uri: "/v2/models/iris/ready", method: .get) { #expect($0.status == .ok) }
            // One tensor per feature, FP32 and INT64 mixed, [N] and [N, 1] shapes.
            let perFeature = """
                {"id": "oip-1", "inputs": [
                  {"name": "sepal_length", "shape": [2], "datatype": "FP32", "data": [5.0, 6.7]},
                  {"name": "sepal_width", "shape": [2, 1], "datatype": "FP64", "data": [[3.4], [3.0]]},
                  {"name": "petal_length", "shape": [2], "datatype": "FP64", "data": [1.5, 5.2]},
                  {"name": "petal_width", "shape": [2], "datatype": "INT64", "data": [0, 2]}]}
                """
            try await client.execute(uri: "/v2/models/iris/infer", method: .post, headers: Self.jsonHeaders, body: ByteBuffer(string: perFeature)) { r in
                #expect(r.status == .ok)
                let b = try Self.json(r.body)
                #expect(b["id"] == .string("oip-1"))
                #expect(b["model_version"] == .string("1"))
                guard case .array(let outs)? = b["outputs"] else { Issue.record("no outputs"); return }
                #expect(outs[0]["name"] == .string("label") && outs[0]["data"] == .array([.string("setosa"), .string("virginica")]))
                #expect(outs[1]["name"] == .string("probabilities") && outs[1]["shape"] == .array([.number(2), .number(3)]))
            }
            // One [N, F] tensor, columns in signature order, to a pinned version.
            let matrix = #"{"inputs": [{"name": "input", "shape": [1, 4], "datatype": "FP64", "data": [[6.7, 3.0, 5.2, 2.3]]}]}"#
            try await client.execute(uri: "/v2/models/iris/versions/1/infer", method: .post, headers: Self.jsonHeaders, body: ByteBuffer(string: matrix)) { r in
                #expect(r.status == .ok)
                let b = try Self.json(r.body)
                guard case .array(let outs)? = b["outputs"] else { Issue.record("no outputs"); return }
                #expect(outs[0]["data"] == .array([.string("virginica")]))
            }
            for (body, message) in [
                (#"{"inputs": [{"name": "input", "shape": [1, 3], "datatype": "FP64", "data": [1, 2, 3]}]}"#, "needs 4 columns"),
                (#"{"inputs": [{"name": "input", "shape": [1, 4], "datatype": "BYTES", "data": ["a", "b", "c", "d"]}]}"#, "datatype BYTES does not fit"),
                (#"{"inputs": [{"name": "sepal_length", "shape": [2], "datatype": "FP64", "data": [1]}]}"#, "shape [2] holds 2 values but 'data' has 1"),
                (#"{"inputs": [{"name": "x", "shape": [1], "datatype": "FP99", "data": [1]}]}"#, "datatype 'FP99' is not one of"),
                (#"{"inputs": [{"name": "sepal_length", "shape": [1], "datatype": "FP64", "data": [1]}]}"#, "missing field 'sepal_width'"),
                (#"{"inputs": []}"#, "'inputs' must be a non-empty list"),
            ] {
                try await client.execute(uri: "/v2/models/iris/infer", method: .post, headers: Self.jsonHeaders, body: ByteBuffer(string: body)) { r in
                    #expect(r.status == .badRequest)
                    guard case .string(let m)? = try Self.json(r.body)["error"] else { Issue.record("no message"); return }
                    #expect(m.contains(message), "\(m)")
                }
            }
            try await client.execute(uri: "/v2/models/iris/versions/9/infer", method: .post, headers: Self.jsonHeaders, body: ByteBuffer(string: matrix)) { r in
                #expect(r.status == .notFound)
            }
        }
    }

    @Test func readinessWaitsForTheModels() async throws {
        let f = ServingFixture()
        try await f.register("iris", alias: "production")
        try await f.deploy("deployment: iris\nroutes: [iris@production]\n")
        let app = ServingApplication(configuration: ServerConfiguration(), store: f.store, blobs: f.blobs)
        #expect(!app.runtime.isReady)
        await app.runtime.refresh()
        #expect(app.runtime.isReady)
        // A deployment whose alias is unset cannot serve: not ready.
        try await f.deploy("deployment: other\nroutes: [iris@nowhere]\n")
        await app.runtime.refresh()
        #expect(!app.runtime.isReady)
        try await LiveServer.with(f) { _, client in
            try await client.execute(uri: "/v2/health/ready", method: .get) { #expect($0.status == .serviceUnavailable) }
            try await client.execute(uri: "/predict/other", method: .post, headers: Self.jsonHeaders, body: ByteBuffer(string: Self.setosa)) { r in
                #expect(r.status == .serviceUnavailable)
                guard case .string(let m)? = try Self.json(r.body)["error"]?["message"] else { Issue.record("no message"); return }
                #expect(m.contains("has no alias 'nowhere'"), "\(m)")
            }
        }
    }

    @Test func metricsCountRequestsAndClasses() async throws {
        let f = ServingFixture()
        let configuration = try await prepare(f)
        try await LiveServer.with(f, configuration: configuration) { app, client in
            for _ in 0..<3 {
                try await client.execute(uri: "/predict/iris", method: .post, headers: Self.jsonHeaders, body: ByteBuffer(string: Self.virginica)) { _ in }
            }
            try await client.execute(uri: "/predict/iris", method: .post, headers: Self.jsonHeaders, body: ByteBuffer(string: "{}")) { _ in }
            try await client.execute(uri: "/metrics", method: .get) { r in
                let text = String(buffer: r.body)
                #expect(text.contains(#"flywheel_requests_total{deployment="iris",version="1",status="200"} 3"#))
                #expect(text.contains(#"flywheel_requests_total{deployment="iris",version="none",status="400"} 1"#))
                #expect(text.contains(#"flywheel_predictions_total{deployment="iris",version="1",class="virginica"} 3"#))
                #expect(text.contains(#"flywheel_request_duration_seconds_count{deployment="iris",version="1"} 3"#))
                #expect(text.contains(#"flywheel_model_load_seconds{model="iris",version="1"}"#))
                #expect(text.contains("flywheel_prediction_log_queue_depth"))
            }
        }
    }

    @Test func feedbackJoinsTheLogAndTheAPIMovesAliases() async throws {
        let f = ServingFixture()
        let configuration = try await prepare(f)
        try await f.register("iris")
        try await LiveServer.with(f, configuration: configuration) { app, client in
            try await client.execute(
                uri: "/predict/iris", method: .post, headers: [.contentType: "application/json", .init("x-request-id")!: "fb-1"],
                body: ByteBuffer(string: Self.virginica)) { #expect($0.status == .ok) }
            await app.predictionLog.flush()
            try await client.execute(
                uri: "/api/v1/feedback", method: .post, headers: Self.jsonHeaders,
                body: ByteBuffer(string: #"[{"request_id": "fb-1", "label": "virginica"}, {"request_id": "unknown", "label": "setosa"}]"#)
            ) { r in
                #expect(r.status == .ok)
                let parsed = try Self.json(r.body)
                #expect(parsed == .object(["recorded": .number(2), "matched": .number(1)]))
            }
            try await client.execute(uri: "/api/v1/feedback", method: .post, headers: Self.jsonHeaders, body: ByteBuffer(string: #"{"label": "x"}"#)) {
                #expect($0.status == .badRequest)
            }
            let logged = try await f.store.predictions(PredictionQuery(deployment: "iris"))
            #expect(logged.count == 1 && logged[0].feedback == .string("virginica"))

            try await client.execute(uri: "/api/v1/models/iris/aliases/production", method: .put, headers: Self.jsonHeaders,
                                     body: ByteBuffer(string: #"{"version": 2, "reason": "better"}"#)) { r in
                #expect(r.status == .ok)
                let parsed = try Self.json(r.body)
                #expect(parsed["previous"] == .number(1))
            }
            try await client.execute(uri: "/api/v1/models/iris", method: .get) { r in
                let parsed = try Self.json(r.body)
                #expect(parsed["aliases"]?["production"] == .number(2))
            }
            await app.runtime.refresh()
            try await client.execute(uri: "/predict/iris", method: .post, headers: Self.jsonHeaders, body: ByteBuffer(string: Self.virginica)) { r in
                #expect(r.headers[HTTPField.Name("x-flywheel-version")!] == "iris/2")
            }
            try await client.execute(uri: "/api/v1/deployments/iris", method: .get) { r in
                let d = try Self.json(r.body)
                #expect(d["revision"] == .number(1))
                guard case .array(let routes)? = d["routes"] else { Issue.record("no routes"); return }
                #expect(routes.first?["version"] == .number(2))
            }
            try await client.execute(uri: "/api/v1/deployments/iris", method: .put, headers: [.contentType: "application/yaml"],
                                     body: ByteBuffer(string: "deployment: iris\nroutes: [iris/1]\n")) { r in
                #expect(r.status == .ok)
                let parsed = try Self.json(r.body)
                #expect(parsed["revision"] == .number(2))
            }
            try await client.execute(uri: "/api/v1/deployments/iris", method: .put, body: ByteBuffer(string: "deployment: other\nroutes: [iris/1]\n")) {
                #expect($0.status == .badRequest)
            }
        }
    }

    /// The sticky header picks the route: one caller always meets one version, and callers spread over both.
    @Test func stickyHeaderKeepsACallerOnOneVersion() async throws {
        let f = ServingFixture()
        try await f.register("iris", alias: "production")
        try await f.register("iris", alias: "staging")
        try await f.deploy("""
            deployment: iris
            routes: [{model: iris@production, weight: 50}, {model: iris@staging, weight: 50}]
            sticky: {header: x-user-id}
            """)
        try await LiveServer.with(f) { _, client in
            var seen: Set<String> = []
            for user in 0..<20 {
                var versions: Set<String> = []
                for _ in 0..<3 {
                    try await client.execute(
                        uri: "/predict/iris", method: .post, headers: [.contentType: "application/json", HTTPField.Name("x-user-id")!: "user-\(user)"],
                        body: ByteBuffer(string: Self.setosa)
                    ) { r in
                        #expect(r.status == .ok)
                        versions.insert(r.headers[HTTPField.Name("x-flywheel-version")!] ?? "")
                    }
                }
                #expect(versions.count == 1, "user-\(user) met \(versions)")
                seen.formUnion(versions)
            }
            #expect(seen == ["iris/1", "iris/2"])
        }
    }
}
