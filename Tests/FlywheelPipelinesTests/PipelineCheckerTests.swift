import FlywheelCore
@testable import FlywheelPipelines
import FlywheelTesting
import Foundation
import Testing

@Suite struct PipelineCheckerTests {
    func problems(_ yaml: String) -> [Diagnostic] { PipelineChecker().check(text: yaml).diagnostics }

    @Test func theDesignsExampleIsValid() throws {
        let (spec, problems) = PipelineChecker().check(text: Examples.iris)
        #expect(problems == [])
        let s = try #require(spec)
        #expect(s.name == "iris")
        #expect(s.steps.map(\.name) == ["load", "validate", "split", "train", "evaluate", "gate", "register", "report"])
        #expect(s.schedule == "0 3 * * *")
        #expect(s.triggers == [.files("data/incoming/*.csv")])
        #expect(s.param("n_trees")?.type == .integer)
        #expect(s.param("min_accuracy")?.type == .number)
        let train = try #require(s.step("train"))
        #expect(train.retry == RetryPolicy(attempts: 3, backoff: 2, factor: 2, maxBackoff: 60, jitter: 0.1))
        #expect(train.timeout == 600)
        #expect(train.upstream == ["split"])
        #expect(s.step("register")?.upstream == ["train", "gate"])
    }

    @Test func aYAMLErrorNamesItsLineAndColumn() throws {
        let p = problems("pipeline: x\nsteps:\n  a: {uses: data/load\n  b: 1\n")
        #expect(p.count == 1)
        let loc = try #require(p.first?.location)
        #expect(loc.line >= 3)
        #expect(p[0].message.hasPrefix("YAML:"))
    }

    @Test func everyProblemIsReportedAtOnceWithItsPlace() throws {
        let yaml = """
            pipeline: bad
            params: {n: 3}
            stepz: {}
            steps:
              load: {uses: data/lod, with: {path: x.csv}}
              split: {uses: data/split, with: {data: "${{ steps.loadd.outputs.table }}", tset_size: 0.2}}
              train: {uses: learn/train, with: {data: "${{ steps.split.outputs.nope }}"}}
              a: {run: "echo ${{ params.m }}", needs: [b]}
              b: {run: "echo", needs: [c]}
              c: {run: "echo", needs: [a], retry: {attempts: 0}}
              d: {uses: learn/evaluate, with: {model: "${{ steps.split.outputs.train }}", data: 3}}
            """
        let p = problems(yaml)
        func has(_ text: String, line: Int) -> Bool { p.contains { $0.message.contains(text) && $0.location?.line == line } }
        #expect(has("unknown key 'stepz' in pipeline (did you mean 'steps'?)", line: 3))
        #expect(has("unknown component 'data/lod' (did you mean 'data/load'?)", line: 5))
        #expect(has("reference to a missing step 'loadd' (did you mean 'load'?)", line: 6))
        #expect(has("has no input 'tset_size' (did you mean 'test_size'?)", line: 6))
        #expect(has("step 'split' has no output 'nope'; its outputs are test, train", line: 7))
        #expect(has("needs input 'target'", line: 7))
        #expect(has("unknown param 'm'; declared: n", line: 8))
        // a needs b, b needs c, c needs a: in run order a comes before c, c before b, b before a.
        let cycles = ["a → c → b → a", "c → b → a → c", "b → a → c → b"]
        #expect(p.contains { d in cycles.contains { d.message == "cycle: \($0)" } })
        #expect(has("retry.attempts must be a whole number from 1 to 100", line: 10))
        #expect(has("input 'model' of learn/evaluate takes model, but is given dataset", line: 11))
        #expect(has("input 'data' of learn/evaluate takes dataset, but is given integer", line: 11))
        #expect(p.count == 11, "\(p)")
    }

    @Test func aCycleIsPrintedAsItsPathInRunOrder() throws {
        let p = problems("pipeline: c\nsteps:\n  x: {run: 'true', needs: [z]}\n  y: {run: 'true', needs: [x]}\n  z: {run: 'true', needs: [y]}\n")
        #expect(p.map(\.message) == ["cycle: x → y → z → x"] || p.map(\.message) == ["cycle: y → z → x → y"] || p.map(\.message) == ["cycle: z → x → y → z"])
        // Each step in the path needs the one before it.
        let path = p[0].message.dropFirst("cycle: ".count).components(separatedBy: " → ")
        let needs = ["x": "z", "y": "x", "z": "y"]
        for i in 1..<path.count { #expect(needs[path[i]] == path[i - 1]) }
    }

    @Test func runStepOutputsAndItemAreChecked() {
        let p = problems("""
            pipeline: r
            steps:
              a: {run: "echo > ${{ outputs.out }}", outputs: {out: file}}
              b: {run: "cat ${{ steps.a.outputs.out }} > ${{ outputs.missing }} ${{ item }}", outputs: {x: model}}
              c: {run: "true", outputs: {y: number}}
            """)
        #expect(p.contains { $0.message.contains("output 'missing' is not declared") && $0.location?.line == 4 })
        #expect(p.contains { $0.message.contains("'item' is only defined in a step with for_each") })
        #expect(p.contains { $0.message.contains("output 'y' must have type file, dataset, model or metrics") && $0.location?.line == 5 })
        #expect(p.count == 3, "\(p)")
    }

    @Test func paramOverridesAreTypedAndNamed() throws {
        let spec = try #require(PipelineChecker().check(text: "pipeline: p\nparams: {n: 3, rate: 0.5, name: x, on: true}\nsteps: {a: {run: 'true'}}\n").spec)
        let v = try PipelineParams.resolve(spec, overrides: ["n": "7", "rate": "2", "on": "false"])
        #expect(v == ["n": .number(7), "rate": .number(2), "name": .string("x"), "on": .bool(false)])
        #expect(throws: FlywheelError.self) { try PipelineParams.resolve(spec, overrides: ["n": "seven"]) }
        do {
            _ = try PipelineParams.resolve(spec, overrides: ["m": "1"])
            Issue.record("an unknown param was accepted")
        } catch let e as FlywheelError {
            #expect(e.message.contains("no param 'm'") && e.message.contains("n, rate, name, on"))
        }
    }

    @Test(arguments: [
        ("p.a == 1 and not p.b", true), ("p.a > 2 or p.b", false), ("!(p.a != 1) && p.c == 'x y'", true), ("p.a >= 1.0", true),
        ("p.c < 'y'", true), ("(p.a == 1 or p.b) and p.c == \"x y\"", true), ("p.d.k == 2", true), ("'2' == 2", true),
        ("p.c == 'x'", false), ("not (p.a < 1)", true), ("p.a <= 0.5 || p.d.k > 1", true), ("p.b", false),
    ])
    func expressionsEvaluate(_ text: String, _ expected: Bool) async throws {
        let e = try Expression.parse(text.replacingOccurrences(of: "p.", with: "params."))
        let resolver = ValueResolver(
            params: ["a": .number(1), "b": .bool(false), "c": .string("x y"), "d": .object(["k": .number(2)])], outputs: [:],
            blobs: InMemoryBlobStore(), pipeline: "e", runID: "r")
        #expect(try await resolver.evaluate(e, item: nil).isTruthy == expected)
    }

    @Test func aConditionIsOneExpression() {
        let p = problems("pipeline: e\nparams: {x: 1}\nsteps:\n  s: {run: 'true', if: \"${{ params.x }} > 0\"}\n")
        #expect(p.count == 1 && p[0].location?.line == 4 && p[0].message.contains("if: must be one expression"))
    }

    @Test func badExpressionsSayWhere() {
        #expect(throws: FlywheelError.self) { try Expression.parse("a ==") }
        #expect(throws: FlywheelError.self) { try Template(parsing: "x ${{ a") }
        let p = problems("pipeline: e\nsteps:\n  s: {run: \"echo ${{ params.a == }}\"}\n")
        #expect(p.count == 1 && p[0].location?.line == 3 && p[0].message.contains("expected a value"))
    }
}

enum Examples {
    static let iris = """
        pipeline: iris
        params: {n_trees: 100, min_accuracy: 0.9}
        schedule: "0 3 * * *"                    # cron, UTC
        on: [{files: "data/incoming/*.csv"}]     # a new or changed file starts a run
        steps:
          load:     {uses: data/load, with: {path: data/iris.csv}}
          validate: {uses: data/validate, with: {data: "${{ steps.load.outputs.table }}", schema: schema.yaml}}
          split:    {uses: data/split, with: {data: "${{ steps.load.outputs.table }}", test_size: 0.25, stratify: species, seed: 42}}
          train:
            uses: learn/train
            with: {data: "${{ steps.split.outputs.train }}", target: species, model: random_forest,
                   hyperparameters: {n_trees: "${{ params.n_trees }}", seed: 42}}
            retry: {attempts: 3, backoff: 2s, factor: 2, max_backoff: 1m}
            timeout: 10m
          evaluate: {uses: learn/evaluate, with: {model: "${{ steps.train.outputs.model }}", data: "${{ steps.split.outputs.test }}"}}
          gate:
            uses: gate
            with: {metrics: "${{ steps.evaluate.outputs.metrics }}", require: {accuracy: ">= ${{ params.min_accuracy }}"},
                   beat: {model: iris@production, metric: accuracy}}
          register:
            if: "${{ steps.gate.outputs.passed }}"
            uses: registry/register
            with: {model: "${{ steps.train.outputs.model }}", name: iris, alias: staging}
          report:
            run: python3 scripts/report.py --metrics ${{ steps.evaluate.outputs.metrics }} --out ${{ outputs.report }}
            outputs: {report: file}
        """
}
