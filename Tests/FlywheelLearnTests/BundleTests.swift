import FlywheelCore
import FlywheelData
import FlywheelLearn
import Foundation
import Testing

@Suite struct BundleTests {
    func iris() throws -> Table {
        let url = try #require(Bundle.module.url(forResource: "Fixtures", withExtension: nil)).appendingPathComponent("data/iris.csv")
        return try CSVReader().read(contentsOf: url)
    }

    /// Same data and seed give a byte-identical bundle; another seed does not.
    @Test(arguments: ["random_forest", "hist_gradient_boosting", "logistic_regression", "decision_tree"])
    func bundlesAreByteIdenticalForASeed(_ model: String) throws {
        let t = try iris()
        let params = model == "random_forest" ? ["n_trees": "10"] : (model == "hist_gradient_boosting" ? ["max_iter": "10"] : [:])
        let a = try Trainer.train(t, TrainingRequest(target: "target", model: model, params: params, seed: 3)).bundle.encoded()
        let b = try Trainer.train(t, TrainingRequest(target: "target", model: model, params: params, seed: 3)).bundle.encoded()
        #expect(a == b)
        if model != "logistic_regression" {
            let c = try Trainer.train(t, TrainingRequest(target: "target", model: model, params: params, seed: 4)).bundle.encoded()
            #expect(a != c)
        }
        // It reads back to the same bundle.
        let back = try ModelBundle.decode(a)
        #expect(try back.encoded() == a)
    }

    @Test func predictorAppliesTrainingPreprocessingToRawRecords() throws {
        // A categorical and a numeric feature with missing values; logistic regression needs both scaled and one-hot.
        var cities: [String?] = [], xs: [Double] = [], ys: [String?] = []
        var rng = SeededRandom(seed: 5)
        for i in 0..<300 {
            let city = ["Oslo", "Lima", "Pune"][rng.below(3)]
            let x = rng.unit() * 10
            cities.append(i % 17 == 0 ? nil : city)
            xs.append(i % 13 == 0 ? .nan : x)
            ys.append((city == "Oslo" || x > 7) ? "yes" : "no")
        }
        let t = try Table(columns: [.categorical("city", cities), .numeric("x", xs), .categorical("label", ys)])
        let result = try Trainer.train(t, TrainingRequest(target: "label", model: "logistic_regression", seed: 1, cvFolds: 3))
        #expect((result.metrics["accuracy"] ?? 0) > 0.85)
        #expect((result.metrics["cv_accuracy"] ?? 0) > 0.85)
        let bundle = result.bundle
        #expect(bundle.classes == ["no", "yes"])
        #expect(bundle.signature.map(\.name) == ["city", "x"])
        #expect(bundle.signature[0].categories == ["Lima", "Oslo", "Pune"])
        let p = Predictor(bundle: bundle)
        // Records predict exactly as the same rows in a table.
        let rows = [0, 1, 2, 13, 17]
        let fromTable = try p.predict(table: t.selecting(rows: rows)).predictions
        let records: [[String: FeatureValue]] = rows.map { r in
            ["city": cities[r].map(FeatureValue.string) ?? .missing, "x": xs[r].isNaN ? .missing : .number(xs[r])]
        }
        #expect(try p.predict(records: records) == fromTable)
        let sum = (fromTable[0].probabilities ?? [:]).values.reduce(0, +)
        #expect(abs(sum - 1) < 1e-12)

        var e = #expect(throws: FlywheelError.self) { try p.predict(records: [["city": .string("Oslo"), "x": .number(1)], ["city": .string("Oslo")]]) }
        #expect(e?.message == "record 1: field 'x' is missing: the model needs it (numeric)")
        e = #expect(throws: FlywheelError.self) { try p.predict(records: [["city": .string("Oslo"), "x": .number(1), "zip": .string("0150")]]) }
        #expect(e?.message.contains("record 0: field 'zip' is not an input") == true)
        // As many fields as the inputs, one of them stray: the stray field is named, not the missing input.
        e = #expect(throws: FlywheelError.self) { try p.predict(records: [["city": .string("Oslo"), "zip": .string("0150")]]) }
        #expect(e?.message.contains("record 0: field 'zip' is not an input") == true)
        // The target may come along with the inputs.
        #expect(try p.predict(records: [records[0].merging(["label": .string("yes")]) { a, _ in a }]) == [fromTable[0]])
        e = #expect(throws: FlywheelError.self) { try p.predict(records: [["city": .number(3), "x": .string("7")]]) }
        #expect(e?.message.contains("field 'x' is the string") == true)
    }

    @Test func regressionBundlesPredictValues() throws {
        let xs = (0..<200).map { Double($0) / 10 }
        let t = try Table(columns: [.numeric("x", xs), .numeric("y", xs.map { 3 * $0 + 1 })])
        let r = try Trainer.train(t, TrainingRequest(target: "y", model: "linear_regression", seed: 1))
        #expect(r.bundle.task == .regression && r.bundle.classes == nil)
        #expect((r.metrics["r2"] ?? 0) > 0.999999)
        let v = try Predictor(bundle: r.bundle).predict(records: [["x": .number(2)]])
        #expect(abs((v[0].value ?? 0) - 7) < 1e-9)
    }

    /// With a deadline, records are predicted in chunks: the same answers when there is time, none
    /// once it has passed, and a bad record is still the error.
    @Test func predictingUntilADeadline() throws {
        let t = try iris()
        let bundle = try Trainer.train(t, TrainingRequest(target: "target", model: "random_forest", params: ["n_trees": "10"], seed: 3)).bundle
        let p = Predictor(bundle: bundle)
        let names = bundle.signature.map(\.name)
        let records: [[String: FeatureValue]] = (0..<t.rowCount).map { r in
            Dictionary(uniqueKeysWithValues: names.map { name in (name, FeatureValue.number(Double(t.column(named: name)?.text(r) ?? "") ?? .nan)) })
        }
        let all = try p.predict(records: records)
        let later = ContinuousClock.now + .seconds(600)
        // 150 records in chunks of 7 (the last one short) and in one chunk: the same answers in order.
        #expect(try p.predict(records: records, until: later, chunk: 7) == all)
        #expect(try p.predict(records: records, until: later) == all)
        let passed = ContinuousClock.now - .seconds(1)
        #expect(try p.predict(records: records, until: passed, chunk: 7) == nil)
        var bad = records
        bad[149]["zip"] = .string("0150")
        let e = #expect(throws: FlywheelError.self) { try p.predict(records: bad, until: passed, chunk: 7) }
        #expect(e?.message.contains("record 149: field 'zip' is not an input") == true)
    }

    @Test func badRequestsAreClear() throws {
        let t = try iris()
        var e = #expect(throws: FlywheelError.self) { try Trainer.train(t, TrainingRequest(target: "species", model: "random_forest")) }
        #expect(e?.message.contains("no column 'species'") == true)
        e = #expect(throws: FlywheelError.self) { try Trainer.train(t, TrainingRequest(target: "target", model: "linear_regression")) }
        #expect(e?.message.contains("linear_regression predicts numbers") == true)
        e = #expect(throws: FlywheelError.self) { try Trainer.train(t, TrainingRequest(target: "target", model: "random_forest", params: ["n_tree": "5"])) }
        #expect(e?.message.contains("unknown hyperparameter 'n_tree' for random_forest") == true)
        e = #expect(throws: FlywheelError.self) { try Trainer.train(t, TrainingRequest(target: "target", model: "random_forest", params: ["max_depth": "deep"])) }
        #expect(e?.message.contains("max_depth='deep'") == true)
        let notBundle = #expect(throws: FlywheelError.self) { try ModelBundle.decode(Data("{\"a\": 1}".utf8)) }
        #expect(notBundle?.message.contains("not a Flywheel model bundle") == true)
        let future = #expect(throws: FlywheelError.self) {
            try ModelBundle.decode(Data("{\"format\": \"flywheel.model\", \"format_version\": 99}".utf8))
        }
        #expect(future?.code == .unsupported)
    }

    @Test func tuningImprovesOnAPoorDefaultAndRecordsTrials() throws {
        let t = try iris()
        var seen = 0
        let r = try Trainer.train(
            t, TrainingRequest(target: "target", model: "decision_tree", params: ["max_depth": "1"], seed: 2, cvFolds: 3,
                               tuning: TuningRequest(strategy: .random, trials: 8))
        ) { _, scores in
            seen += 1
            #expect(scores["cv_accuracy"] != nil)
        }
        #expect(seen == 8 && r.trials.count == 8)
        // A depth-1 tree cannot pass ~0.67 on iris; tuning over max_depth finds better.
        #expect((r.metrics["cv_accuracy"] ?? 0) > 0.85)
        #expect(r.bundle.metadata.hyperparameters["max_depth"] != "1")
    }
}

extension BundleTests {
    @Test func maxFeaturesEncodesReadably() throws {
        let enc = JSONEncoder()
        enc.outputFormatting = .sortedKeys
        for (m, text) in [(MaxFeatures.sqrt, "\"sqrt\""), (.all, "\"all\""), (.count(5), "{\"count\":5}"), (.fraction(0.5), "{\"fraction\":0.5}")] {
            #expect(String(decoding: try enc.encode(m), as: UTF8.self) == text)
            #expect(try JSONDecoder().decode(MaxFeatures.self, from: Data(text.utf8)) == m)
        }
    }
}
