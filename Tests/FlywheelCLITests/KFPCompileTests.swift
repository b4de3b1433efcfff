import Foundation
import Testing
import Yams

/// Compiles pipelines for Kubeflow and checks them with the real `kfp` package (strict protobuf
/// parse, component loading, every reference resolved), then runs one the way KFP's launcher
/// would, to show `flywheel step exec` works from KFP's placeholders.
@Suite struct KFPCompileTests {
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let python = repo.appendingPathComponent(".venv-kfp/bin/python")

    func python(_ args: [String], env: [String: String] = [:]) throws -> (Int32, String, String) {
        try runPython(Self.python, args, env: env, venvHint: "kfp")
    }

    /// A copy of an example folder made into a workspace.
    func example(_ name: String) throws -> CLI {
        let cli = try CLI.workspace()
        let source = Self.repo.appendingPathComponent("examples/\(name)")
        for entry in try FileManager.default.contentsOfDirectory(atPath: source.path) {
            try FileManager.default.copyItem(at: source.appendingPathComponent(entry), to: cli.cwd.appendingPathComponent(entry))
        }
        return cli
    }

    static let features = """
        pipeline: features
        params: {threshold: 0.5, go: true}
        steps:
          make: {run: "echo 1 > ${{ outputs.data }}", outputs: {data: dataset}, timeout: 90s, retry: {attempts: 2, backoff: 5s}}
          check: {run: "cat ${{ steps.make.outputs.data }}", if: "${{ params.go }}", cache: false}
          each: {run: "echo ${{ item }} > ${{ outputs.o }}", outputs: {o: file}, for_each: [a, b]}
          gated: {run: "true", if: "params.threshold > 0.3 and not params.go", needs: each,
                  retry: {attempts: 4, backoff: 1s, factor: 3, max_backoff: 20s}}
        """

    @Test func everyExampleCompilesToAValidPipelineSpec() throws {
        let iris = try example("iris"), py = try example("python-step")
        _ = try iris.write(Self.features, to: "features.yaml")
        var files: [String] = []
        for (cli, spec) in [(iris, "pipeline.yaml"), (py, "pipeline.yaml"), (iris, "features.yaml")] {
            let out = cli.cwd.appendingPathComponent("\(spec).kfp.yaml").path
            let r = try cli.run("pipelines", "compile", spec, "--target", "kfp", "--image", "ghcr.io/acme/flywheel:1", "-o", out)
            #expect(r.ok, "\(r.stderr)")
            files.append(out)
        }
        let (status, out, err) = try python([Self.repo.appendingPathComponent("scripts/validate_kfp.py").path] + files)
        #expect(status == 0, "\(out)\(err)")
        #expect(out.split(separator: "\n").filter { $0.hasPrefix("OK ") }.count == 3, "\(out)")

        // What the features spec becomes.
        let docs = try Yams.load_all(yaml: String(contentsOfFile: files[2], encoding: .utf8)).map { $0 }
        #expect(docs.count == 2)
        let spec = try #require(docs[0] as? [String: Any])
        #expect(spec["schemaVersion"] as? String == "2.1.0")
        let tasks = try #require(((spec["root"] as? [String: Any])?["dag"] as? [String: Any])?["tasks"] as? [String: [String: Any]])
        let make = try #require(tasks["make"])
        #expect((make["retryPolicy"] as? [String: Any])?["maxRetryCount"] as? Int == 1)
        #expect((make["retryPolicy"] as? [String: Any])?["backoffDuration"] as? String == "5s")
        #expect((make["retryPolicy"] as? [String: Any])?["backoffMaxDuration"] == nil)
        let gated = try #require(tasks["gated"])
        #expect((gated["retryPolicy"] as? [String: Any])?["backoffMaxDuration"] as? String == "20s")
        #expect((gated["triggerPolicy"] as? [String: Any])?["condition"] as? String
                == "(inputs.parameter_values['pipelinechannel--params-threshold'] > 0.3) && (!(inputs.parameter_values['pipelinechannel--params-go']))")
        #expect((tasks["check"]?["cachingOptions"] as? [String: Any])?["enableCache"] as? Bool == false)
        #expect((tasks["check"]?["triggerPolicy"] as? [String: Any])?["condition"] as? String == "inputs.parameter_values['pipelinechannel--params-go'] == true")
        let each = try #require(tasks["each"]?["parameterIterator"] as? [String: Any])
        #expect((each["items"] as? [String: Any])?["raw"] as? String == "[\"a\",\"b\"]")
        let platform = try #require(docs[1] as? [String: Any])
        let executors = (((platform["platforms"] as? [String: Any])?["kubernetes"] as? [String: Any])?["deploymentSpec"] as? [String: Any])?["executors"] as? [String: Any]
        #expect((executors?["exec-make"] as? [String: Any])?["activeDeadlineSeconds"] as? Int == 90)
        // Artifacts are typed.
        let components = try #require(spec["components"] as? [String: [String: Any]])
        let makeOut = ((components["comp-make"]?["outputDefinitions"] as? [String: Any])?["artifacts"] as? [String: Any])?["data"] as? [String: Any]
        #expect((makeOut?["artifactType"] as? [String: Any])?["schemaTitle"] as? String == "system.Dataset")
    }

    @Test func theCompiledIrisPipelineRunsThroughStepExec() throws {
        let cli = try example("iris")
        let out = cli.cwd.appendingPathComponent("kfp.yaml").path
        #expect(try cli.run("pipelines", "compile", "pipeline.yaml", "--image", "flywheel:local", "-o", out).ok)
        let work = cli.cwd.appendingPathComponent("kfp-work").path
        let (status, stdout, stderr) = try python(
            [Self.repo.appendingPathComponent("scripts/kfp_local_launcher.py").path, out, "--flywheel", CLI.binary.path, "--work", work,
             "--param", "n_trees=20"],
            env: ["FLYWHEEL_WORKSPACE": cli.cwd.path])
        #expect(status == 0, "\(stderr)")
        let results = try #require(try JSONSerialization.jsonObject(with: Data(stdout.utf8)) as? [String: [String: Any]])
        #expect(Set(results.keys) == ["load", "validate", "split", "train", "evaluate", "gate", "register", "report"])
        #expect(results.values.allSatisfy { $0["status"] as? String == "succeeded" }, "\(results.mapValues { $0["status"] ?? "" })\n\(stderr)")
        #expect((results["gate"]?["parameters"] as? [String: Any])?["passed"] as? Bool == true)
        #expect((results["register"]?["parameters"] as? [String: Any])?["version"] as? Double == 1)
        // The model the KFP "containers" registered is in the workspace and its training used the param.
        let show = try cli.run("models", "versions", "list", "iris", "--json")
        #expect(show.ok && show.stdout.contains("\"version\" : 1"))
        let model = try #require((results["train"]?["artifacts"] as? [String: Any])?["model"] as? String)
        let bundle = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: model))) as? [String: Any])
        #expect(((bundle["metadata"] as? [String: Any])?["hyperparameters"] as? [String: Any])?["n_trees"] as? String == "20")
        let report = try #require((results["report"]?["artifacts"] as? [String: Any])?["report"] as? String)
        #expect(try String(contentsOfFile: report, encoding: .utf8).hasPrefix("iris model report"))
    }

    @Test func stepExecExplainsBadArguments() throws {
        let cli = try CLI.workspace()
        let r = try cli.run("step", "exec", "learn/fly")
        #expect(r.status == 1 && r.stderr.contains("no component 'learn/fly'"))
        let bad = try cli.run("step", "exec", "data/load", "--value", "params.x=weird:1")
        #expect(bad.status == 1 && bad.stderr.contains("expected TYPE:VALUE"))
        let with = try cli.run("step", "exec", "data/load", "--with", "[1]")
        #expect(with.status == 1 && with.stderr.contains("--with must be a JSON object"))
    }
}
