import FlywheelCore
import FlywheelRegistry
import FlywheelServing
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// The artifact proxy (`/api/2.0/mlflow-artifacts/artifacts/…`) and the tracking API's listing:
/// a run's files live under `EXP/RUN/artifacts/PATH`, a logged model's under
/// `EXP/models/ID/artifacts/PATH`, both in the blob store by digest.
extension MLflowController {
    /// Whose files a proxy path names.
    enum ArtifactOwner {
        case run(Run)
        case model(LoggedModel)
    }

    func addArtifactRoutes(to router: Router<Context>) {
        let artifacts = router.group("/api/2.0/mlflow-artifacts/artifacts")
        artifacts.get { request, _ in
            let path = MLflowJSON.formQuery(request)["path"] ?? ""
            let (owner, logical) = try await locate(path, allowRoot: true)
            return try ArtifactListing.response(try await files(of: owner), under: logical, root: nil)
        }
        artifacts.get("**") { request, context in
            let (owner, logical) = try await locate(Self.decodedPath(context), allowRoot: false)
            let digest: Digest?
            switch owner {
            case .run(let run): digest = try await store.artifacts(runID: run.id, prefix: logical).first { $0.path == logical }?.digest
            case .model(let m): digest = try await store.modelArtifacts(modelID: m.id, prefix: logical).first { $0.path == logical }?.digest
            }
            guard let digest else { throw FlywheelError.notFound("\(owner.name) has no artifact '\(logical)'") }
            let data = try await blobs.data(digest)
            return Response(
                status: .ok, headers: [.contentType: "application/octet-stream"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
        }
        artifacts.put("**") { request, context in
            let (owner, logical) = try await locate(Self.decodedPath(context), allowRoot: false)
            try ArtifactRecord.validate(path: logical)
            if case .run(let run) = owner { try await loggable(run.id) }
            // Streamed into the blob store as it arrives: memory stays bounded whatever the size.
            let writer = try await blobs.writer()
            var received = 0
            do {
                for try await chunk in request.body {
                    received += chunk.readableBytes
                    guard received <= maxArtifactBytes else {
                        throw FlywheelError(.payloadTooLarge, "the artifact is over the limit of \(maxArtifactBytes) bytes")
                    }
                    try chunk.withUnsafeReadableBytes { try writer.write($0) }
                }
            } catch {
                writer.abort()
                throw error
            }
            let info = try await writer.commit()
            let now = SystemWallClock().now()
            switch owner {
            case .run(let run):
                try await store.recordArtifacts([ArtifactRecord(runID: run.id, path: logical, digest: info.digest, size: info.size, createdAt: now)])
            case .model(let m):
                try await store.recordModelArtifacts([
                    ModelArtifactRecord(modelID: m.id, path: logical, digest: info.digest, size: info.size, createdAt: now)
                ])
            }
            return MLflowJSON.empty()
        }
        artifacts.delete("**") { _, context -> Response in
            // Deleting files is not offered: artifacts are content-addressed records that lineage
            // and registered versions refer to.
            _ = try await locate(Self.decodedPath(context), allowRoot: true)
            throw FlywheelError.invalidArgument("deleting artifacts is not offered: Flywheel keeps every logged file (delete the run instead)")
        }
    }

    /// The catch-all path with each segment percent-decoded (`my%20model.pkl` is `my model.pkl`).
    static func decodedPath(_ context: Context) throws -> String {
        try context.parameters.getCatchAll().map { segment in
            guard let s = String(segment).removingPercentEncoding else {
                throw FlywheelError.invalidArgument("artifact path segment '\(segment)' has a malformed percent escape")
            }
            return s
        }.joined(separator: "/")
    }

    /// EXPERIMENT/RUN/artifacts[/PATH] or EXPERIMENT/models/MODEL/artifacts[/PATH] → its owner and PATH.
    func locate(_ path: String, allowRoot: Bool) async throws -> (ArtifactOwner, String) {
        let parts = path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        if parts.count >= 4, parts[1] == "models", parts[3] == "artifacts", allowRoot || parts.count > 4 {
            let m = try await loggedModel(id: parts[2])
            guard m.experimentID.rawValue == parts[0] else { throw FlywheelError.notFound("logged model \(m.id) is not in experiment \(parts[0])") }
            return (.model(m), parts.dropFirst(4).joined(separator: "/"))
        }
        guard parts.count >= 3, parts[2] == "artifacts", allowRoot || parts.count > 3 else {
            throw FlywheelError.invalidArgument(
                "artifact path '\(path)' is not valid: expected EXPERIMENT_ID/RUN_ID/artifacts/PATH or EXPERIMENT_ID/models/MODEL_ID/artifacts/PATH")
        }
        let run = try await detail(RunID(parts[1])).run
        guard run.experimentID.rawValue == parts[0] else {
            throw FlywheelError.notFound("run \(run.id) is not in experiment \(parts[0])")
        }
        return (.run(run), parts.dropFirst(3).joined(separator: "/"))
    }

    func files(of owner: ArtifactOwner) async throws -> [(String, Int64)] {
        switch owner {
        case .run(let run): try await store.artifacts(runID: run.id, prefix: nil).map { ($0.path, $0.size) }
        case .model(let m): try await store.modelArtifacts(modelID: m.id, prefix: nil).map { ($0.path, $0.size) }
        }
    }
}

extension MLflowController.ArtifactOwner {
    var name: String {
        switch self {
        case .run(let r): "run \(r.id)"
        case .model(let m): "logged model \(m.id)"
        }
    }
}

/// MLflow's artifact listing: the direct children of a folder, files with sizes and folders.
enum ArtifactListing {
    /// The proxy (`root` nil) lists names relative to the listed folder; the tracking API and the
    /// logged-model listing relative to the owner's root, with `root_uri`.
    static func response(_ all: [(String, Int64)], under path: String, root: String?) throws -> Response {
        let clean = path.trimmingCharacters(in: CharacterSet(charactersIn: "/"))
        var files: [String: (isDir: Bool, size: Int64)] = [:]
        for (p, size) in all {
            let rest: Substring
            if clean.isEmpty {
                rest = Substring(p)
            } else if p.hasPrefix(clean + "/") {
                rest = p.dropFirst(clean.count + 1)
            } else {
                continue  // elsewhere, or `path` names a file, not a folder: no children
            }
            if let slash = rest.firstIndex(of: "/") {
                files[String(rest[..<slash])] = (true, 0)
            } else if files[String(rest)] == nil {
                files[String(rest)] = (false, size)
            }
        }
        let entries: [JSONValue] = files.sorted { $0.key < $1.key }.map { name, f in
            var o: [String: JSONValue] = ["path": .string(root == nil || clean.isEmpty ? name : clean + "/" + name), "is_dir": .bool(f.isDir)]
            if !f.isDir { o["file_size"] = .number(Double(f.size)) }
            return .object(o)
        }
        var out: [String: JSONValue] = ["files": .array(entries)]
        if let root { out["root_uri"] = .string(root) }
        return try MLflowJSON.response(out)
    }
}

extension MLflowController {
    /// The MLflow server version whose REST API this one answers as: `/version` reports it, since
    /// the client compares it with the versions features need.
    static var compatibleMLflowVersion: String { "3.17.2" }

    /// `/health` and `/version`, plain text as MLflow's server answers them (probes and the client
    /// call them), and `server-info`.
    func addPlainRoutes(to router: Router<Context>) {
        router.get("/health") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/plain; charset=utf-8"], body: ResponseBody(byteBuffer: ByteBuffer(string: "OK")))
        }
        // What the client asks before multipart transfers and workspaces: none of either here,
        // and no store type it would treat specially.
        for prefix in ["/api/3.0/mlflow", "/ajax-api/3.0/mlflow"] {
            router.get(RouterPath(prefix + "/server-info")) { _, _ in
                try MLflowJSON.response([
                    "store_type": .null, "workspaces_enabled": .bool(false), "trace_archival_enabled": .bool(false),
                    "multipart_uploads_enabled": .bool(false), "multipart_downloads_enabled": .bool(false),
                    "presigned_upload_run_id_supported": .bool(false), "presigned_upload_model_id_supported": .bool(false),
                    "features_enabled": .object(["gateway": .bool(false)]),
                ])
            }
        }
        router.get("/version") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/plain; charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: Self.compatibleMLflowVersion)))
        }
    }
}
