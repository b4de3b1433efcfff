import FlywheelCore
import FlywheelLearn
import FlywheelYAML
import Foundation

/// Whether a registered version can be served, asked when a deployment is applied: a version
/// Flywheel cannot run (an MLflow model pickled by Python, a file that is no model bundle) is
/// refused then, with the way out, and never first noticed by a request.
public enum ServableCheck {
    /// Nil when `v` loads as a Flywheel model; otherwise why not, naming `reference`.
    public static func problem(with v: ModelVersion, reference: String, store: any MetadataStore, blobs: any BlobStore) async -> String? {
        let what = "\(reference) (version \(v.version) of \(v.modelName))"
        let flavors = await mlflowFlavors(of: v, store: store, blobs: blobs)
        if let digest = v.digest {
            do {
                _ = try ModelBundle.decode(try await blobs.data(digest), source: what)
                return nil
            } catch {
                if flavors.isEmpty { return "\(what): its model file is not a Flywheel model bundle: \(FlywheelError.message(of: error))" }
            }
        }
        guard !flavors.isEmpty else { return "\(what) has no model file: register a model Flywheel trained (`flywheel train --register \(v.modelName)`)" }
        return "\(what) is an MLflow model with flavor\(flavors.count == 1 ? "" : "s") \(flavors.joined(separator: ", ")), "
            + "which Flywheel cannot run natively (its Python code and pickled weights need Python). "
            + "Train it with Flywheel instead (`flywheel train --data … --target … --register \(v.modelName)`); "
            + "serving an ONNX flavor (mlflow.onnx.log_model) is not offered yet"
    }

    /// The flavors in the `MLmodel` file beside a version's files, if it came from MLflow: a
    /// logged model's folder, or the run folder its `runs:/RUN/PATH` source names.
    static func mlflowFlavors(of v: ModelVersion, store: any MetadataStore, blobs: any BlobStore) async -> [String] {
        var digest: Digest?
        if let id = v.labels[LoggedModel.versionLabel] {
            digest = try? await store.modelArtifacts(modelID: LoggedModelID(id), prefix: "MLmodel").first { $0.path == "MLmodel" }?.digest
        } else if v.source.hasPrefix("runs:/"), let run = v.runID {
            var folder = v.source.dropFirst("runs:/".count).split(separator: "/", maxSplits: 1).dropFirst().first.map(String.init) ?? ""
            // A version made from one file of the folder (`…/model/model.pkl`) has its MLmodel beside it.
            if v.digest != nil, let slash = folder.lastIndex(of: "/") { folder = String(folder[..<slash]) }
            let path = folder.isEmpty ? "MLmodel" : folder + "/MLmodel"
            digest = try? await store.artifacts(runID: run, prefix: path).first { $0.path == path }?.digest
        }
        guard let digest, let data = try? await blobs.data(digest) else { return [] }
        var reader = SpecReader()
        guard let root = reader.compose(String(decoding: data, as: UTF8.self)), case .object(let doc) = SpecReader.json(root),
            case .object(let flavors)? = doc["flavors"]
        else { return [] }
        return flavors.keys.sorted()
    }
}
