import FlywheelCore
import FlywheelData
import FlywheelLearn
import FlywheelRegistry
import FlywheelServing
import FlywheelTesting
import Foundation
import Testing

@Suite struct DeploymentRuntimeTests {
    func runtime(_ f: ServingFixture, log: PredictionLogger? = nil) -> DeploymentRuntime {
        DeploymentRuntime(store: f.store, blobs: f.blobs, predictionLog: log)
    }

    @Test func answersLikeThePredictorAndFollowsAnAliasMove() async throws {
        let f = ServingFixture()
        let (_, b1) = try await f.register("iris", model: "decision_tree", params: ["max_depth": "1"], alias: "production")
        let (v2, b2) = try await f.register("iris", model: "random_forest", params: ["n_trees": "15"])
        try await f.deploy("deployment: iris\nroutes: [{model: iris@production}]\n")
        let rt = runtime(f)
        #expect(!rt.isReady)
        #expect(await rt.refresh() == ["iris"])
        #expect(rt.isReady)
        let records = [ServingFixture.setosa, ServingFixture.virginica]
        let r1 = try rt.predict(deployment: "iris", records: records, requestID: "a")
        #expect(r1.version == 1)
        let expected1 = try Predictor(bundle: b1).predict(records: records.map(Self.features))
        #expect(r1.answers.map(\.label) == expected1.map(\.label))
        #expect(r1.answers.map(\.probabilities) == expected1.map(\.probabilities))

        _ = try await f.registry.setAlias("production", model: "iris", version: v2, by: ServingFixture.who)
        // Until the refresh the old plan keeps answering.
        #expect(try rt.predict(deployment: "iris", records: records, requestID: "b").version == 1)
        #expect(await rt.refresh() == ["iris"])
        let r2 = try rt.predict(deployment: "iris", records: records, requestID: "c")
        #expect(r2.version == v2)
        #expect(r2.answers.map(\.probabilities) == (try Predictor(bundle: b2).predict(records: records.map(Self.features))).map(\.probabilities))
        #expect(await rt.refresh() == [], "nothing changed, nothing reported")
    }

    static func features(_ r: [String: JSONValue]) -> [String: FeatureValue] {
        r.mapValues { if case .number(let d) = $0 { .number(d) } else { .missing } }
    }

    @Test func stickyRoutingKeepsACallerOnOneVersionAndSplitsByWeight() async throws {
        let f = ServingFixture()
        try await f.register("iris", alias: "production")
        try await f.register("iris", alias: "staging")
        try await f.deploy("""
            deployment: iris
            routes: [{model: iris@production, weight: 80}, {model: iris@staging, weight: 20}]
            sticky: {header: x-user-id}
            """)
        let rt = runtime(f)
        await rt.refresh()
        var counts = [0, 0, 0]
        for u in 0..<5000 {
            let key = "user-\(u)"
            let first = try rt.predict(deployment: "iris", records: [ServingFixture.setosa], stickyKey: key, requestID: "r\(u)").version
            counts[first] += 1
            for _ in 0..<2 {
                #expect(try rt.predict(deployment: "iris", records: [ServingFixture.setosa], stickyKey: key, requestID: "s").version == first)
            }
        }
        // 5000 distinct callers: the staging share is 20% ± 3 points.
        let share = Double(counts[2]) / 5000
        #expect(abs(share - 0.2) < 0.03, "staging got \(share)")
    }

    @Test func validationNamesTheRecordAndField() async throws {
        let f = ServingFixture()
        try await f.register("iris", alias: "production")
        try await f.deploy("deployment: iris\nroutes: [iris@production]\n")
        let rt = runtime(f)
        await rt.refresh()
        func message(_ records: [[String: JSONValue]]) -> String? {
            do {
                _ = try rt.predict(deployment: "iris", records: records, requestID: "x")
                return nil
            } catch let e as FlywheelError {
                #expect(e.code == .invalidArgument)
                return e.message
            } catch { return "\(error)" }
        }
        var missing = ServingFixture.setosa
        missing["petal_width"] = nil
        #expect(message([ServingFixture.setosa, missing]) == "record 1: missing field 'petal_width' (numeric)")
        var extra = ServingFixture.setosa
        extra["colour"] = .string("blue")
        #expect(message([extra])?.hasPrefix("record 0: field 'colour' is not an input of this model") == true)
        var wrong = ServingFixture.setosa
        wrong["sepal_width"] = .string("wide")
        #expect(message([wrong]) == "record 0: field 'sepal_width' is a string: expected a number")
        var nan = ServingFixture.setosa
        nan["sepal_width"] = .string("NaN")
        #expect(message([nan]) == "record 0: field 'sepal_width' is NaN: expected a finite number")
        // The target may ride along (it is ignored); null is a missing value the imputer fills.
        var withTarget = ServingFixture.setosa
        withTarget["species"] = .string("setosa")
        withTarget["sepal_width"] = .null
        #expect(message([withTarget]) == nil)
        #expect(throws: FlywheelError.self) { try rt.predict(deployment: "nope", records: [ServingFixture.setosa], requestID: "x") }
    }

    @Test func unseenCategoriesRejectedOrMissingPerDeployment() async throws {
        let f = ServingFixture()
        var csv = "colour,size,label\n"
        for i in 0..<60 { csv += "\(["red", "green", "blue"][i % 3]),\(i % 7),\(i % 3 == 0 ? "yes" : "no")\n" }
        let table = try CSVReader().read(Data(csv.utf8))
        try await f.register("shop", model: "decision_tree", params: [:], table: table, target: "label", alias: "production")
        try await f.deploy("deployment: strict\nroutes: [shop@production]\nunseen_categories: reject\n")
        try await f.deploy("deployment: lenient\nroutes: [shop@production]\n")
        let rt = runtime(f)
        await rt.refresh()
        let record: [String: JSONValue] = ["colour": .string("purple"), "size": .number(3)]
        #expect {
            try rt.predict(deployment: "strict", records: [record], requestID: "x")
        } throws: { e in
            (e as? FlywheelError)?.message.hasPrefix("record 0: field 'colour' has category 'purple', unseen in training (known: blue, green, red)") == true
        }
        #expect(try rt.predict(deployment: "lenient", records: [record], requestID: "y").answers.count == 1)
        #expect(try rt.predict(deployment: "strict", records: [["colour": .string("red"), "size": .number(3)]], requestID: "z").answers.first?.label == "yes")
    }

    @Test func fallbackAnswersWhenTheRoutedVersionCannotLoad() async throws {
        let f = ServingFixture()
        try await f.register("iris", alias: "previous")
        // A version whose model file is not a bundle: it can never load.
        let junk = try await f.blobs.put(Data("not a model".utf8)).digest
        let broken = try await f.registry.createVersion(model: "iris", source: .blob(junk), by: ServingFixture.who)
        _ = try await f.registry.setAlias("production", model: "iris", version: broken.version, by: ServingFixture.who)
        try await f.deploy("deployment: withmodel\nroutes: [iris@production]\nfallback: {model: iris@previous}\n")
        try await f.deploy("deployment: withanswer\nroutes: [iris@production]\nfallback: {answer: {label: unknown}}\n")
        try await f.deploy("deployment: without\nroutes: [iris@production]\n")
        let rt = runtime(f)
        await rt.refresh()
        #expect(!rt.isReady, "a deployment with no loadable route is not ready")
        let m = try rt.predict(deployment: "withmodel", records: [ServingFixture.setosa], requestID: "a")
        #expect(m.usedFallback && m.version == 1 && m.answers.first?.label == "setosa")
        let a = try rt.predict(deployment: "withanswer", records: [ServingFixture.setosa, ServingFixture.virginica], requestID: "b")
        #expect(a.usedFallback && a.answers.map(\.json) == Array(repeating: .object(["label": .string("unknown")]), count: 2))
        #expect {
            try rt.predict(deployment: "without", records: [ServingFixture.setosa], requestID: "c")
        } throws: { e in
            let fe = e as? FlywheelError
            return fe?.code == .unavailable && fe?.message.contains("is not a Flywheel model bundle") == true
        }
        let plan = try #require(rt.plan("without"))
        #expect(plan.routes.first?.problem?.contains("is not a Flywheel model bundle") == true)
    }

    /// A request still unanswered at its deployment's deadline goes to the fallback, or fails as
    /// deadline_exceeded (504) without one; with time to spare it is answered by the model.
    @Test func theDeadlineHandsOverToTheFallback() async throws {
        let f = ServingFixture()
        try await f.register("iris", params: ["n_trees": "30"], alias: "production")
        try await f.deploy("deployment: slow\nroutes: [iris@production]\ntimeout: 1ms\nfallback: {answer: {label: busy}}\n")
        try await f.deploy("deployment: strict\nroutes: [iris@production]\ntimeout: 1ms\n")
        try await f.deploy("deployment: roomy\nroutes: [iris@production]\ntimeout: 10m\n")
        let rt = runtime(f)
        await rt.refresh()
        // 20,000 records take far longer than 1 ms to check, preprocess and predict through 30 trees.
        let many = Array(repeating: ServingFixture.virginica, count: 20_000)
        let slow = try rt.predict(deployment: "slow", records: many, requestID: "a")
        #expect(slow.usedFallback)
        #expect(slow.answers.count == many.count)
        #expect(slow.answers.allSatisfy { $0.json == .object(["label": .string("busy")]) })
        #expect {
            try rt.predict(deployment: "strict", records: many, requestID: "b")
        } throws: { e in
            let fe = e as? FlywheelError
            return fe?.code == .deadlineExceeded && fe?.message == "deployment 'strict': the deadline of 0.001 seconds passed"
        }
        let roomy = try rt.predict(deployment: "roomy", records: many, requestID: "c")
        #expect(!roomy.usedFallback && roomy.version == 1)
        #expect(roomy.answers.count == many.count && roomy.answers.allSatisfy { $0.label == "virginica" })
        // A bad record is a 400 whatever the clock says.
        var bad = many
        bad[19_999]["petal_width"] = .string("wide")
        #expect {
            try rt.predict(deployment: "slow", records: bad, requestID: "d")
        } throws: { e in
            let fe = e as? FlywheelError
            return fe?.code == .invalidArgument && fe?.message.contains("record 19999") == true
        }
    }

    @Test func reviewFlagBelowTheConfidenceThreshold() async throws {
        let f = ServingFixture()
        // A one-split tree cannot tell versicolor from virginica: about half-half there.
        try await f.register("iris", model: "decision_tree", params: ["max_depth": "1"], alias: "production")
        try await f.deploy("deployment: iris\nroutes: [iris@production]\nreview_below_confidence: 0.9\n")
        let rt = runtime(f)
        await rt.refresh()
        let r = try rt.predict(deployment: "iris", records: [ServingFixture.setosa, ServingFixture.virginica], requestID: "x")
        #expect(r.answers[0].needsReview == false)
        #expect(r.answers[1].needsReview == true)
        #expect((r.answers[1].probabilities?.values.max() ?? 1) < 0.9)
    }

    @Test func logsSampledRequestsWithShadowAnswersAndRedaction() async throws {
        let f = ServingFixture()
        var csv = "note,size,label\n"
        for i in 0..<40 { csv += "n\(i % 4),\(i % 5),\(i % 2 == 0 ? "a" : "b")\n" }
        let table = try CSVReader().read(Data(csv.utf8))
        try await f.register("m", model: "decision_tree", params: [:], table: table, target: "label", alias: "production")
        try await f.register("m", model: "decision_tree", params: ["max_depth": "1"], table: table, target: "label", alias: "challenger")
        try await f.deploy("""
            deployment: m
            routes: [m@production]
            shadow: [m@challenger]
            log: {sample_rate: 1, redact: [email]}
            """)
        try await f.deploy("deployment: quiet\nroutes: [m@production]\nlog: {sample_rate: 0}\n")
        let log = PredictionLogger(store: f.store)
        let rt = runtime(f, log: log)
        await rt.refresh()
        let rec: [String: JSONValue] = ["note": .string("write to bob@example.com"), "size": .number(2)]
        let answer = try rt.predict(deployment: "m", records: [rec, rec], requestID: "req-1")
        _ = try rt.predict(deployment: "quiet", records: [rec], requestID: "req-2")
        // The shadow runs detached; wait (bounded) for its records to reach the queue.
        for _ in 0..<200 where log.counts.queued < 2 { try await Task.sleep(for: .milliseconds(10)) }
        await log.flush()
        let logged = try await f.store.predictions(PredictionQuery())
        #expect(logged.map(\.requestID) == ["req-1", "req-1"])
        #expect(logged.map(\.index) == [0, 1])
        #expect(logged[0].features["note"] == .string("write to [email]"))
        #expect(logged[0].output == answer.answers[0].json)
        #expect(logged[0].version == 1)
        #expect(logged[0].shadow["m/2"]?["label"] != nil)
        #expect(log.counts.written == 2)
    }

    @Test func aFullLogQueueDropsAndCounts() async throws {
        let f = ServingFixture()
        let log = PredictionLogger(store: f.store, capacity: 3)
        let r = PredictionRecord(requestID: "a", index: 0, time: SystemWallClock().now(), deployment: "d", model: "m", version: 1,
                                 features: [:], output: .null, latencyMicros: 1)
        #expect(log.offer([r, r], redactor: Redactor(rules: [])))
        #expect(!log.offer([r, r], redactor: Redactor(rules: [])))
        #expect(log.counts.queued == 2 && log.counts.dropped == 2)
    }

    /// A regressor answers `value`, equal to its predictor's, with no review flag.
    @Test func regressorsAnswerValues() async throws {
        let f = ServingFixture()
        let (_, bundle) = try await f.register("width", model: "linear_regression", params: [:], target: "petal_width", alias: "production")
        try await f.deploy("deployment: width\nroutes: [width@production]\nreview_below_confidence: 0.9\n")
        let rt = runtime(f)
        await rt.refresh()
        var a = ServingFixture.setosa, b = ServingFixture.virginica
        a["petal_width"] = nil
        b["petal_width"] = nil
        a["species"] = .string("setosa")
        b["species"] = .string("virginica")
        let r = try rt.predict(deployment: "width", records: [a, b], requestID: "reg")
        let expected = try Predictor(bundle: bundle).predict(records: [a, b].map { rec in
            rec.mapValues { v -> FeatureValue in
                switch v {
                case .number(let d): .number(d)
                case .string(let s): .string(s)
                default: .missing
                }
            }
        })
        #expect(r.answers.map(\.value) == expected.map(\.value))
        #expect(r.answers.allSatisfy { $0.label == nil && $0.probabilities == nil && !$0.needsReview })
        #expect(r.answers[1].value ?? 0 > r.answers[0].value ?? 0, "virginica's petals are wider")
        #expect(r.task == .regression)
    }
}
