import FlywheelCore
import FlywheelRegistry
import FlywheelServing
import Foundation
import Hummingbird

/// `/api/v1/deployments`: list, show (with the versions each route serves now), apply (YAML
/// body), delete and history.
struct DeploymentsController<Context: RequestContext> {
    let store: any MetadataStore
    let runtime: DeploymentRuntime
    let maxBodyBytes: Int

    func addRoutes(to router: Router<Context>) {
        let api = router.group("/api/v1/deployments")
        api.get { _, _ in
            let all = try await store.listDeployments()
            return Response.json(.object(["deployments": .array(all.map { describe($0) })]))
        }
        api.get(":name") { _, context in
            let name = try context.parameters.require("name")
            guard let d = try await store.deployment(named: name) else { throw FlywheelError.notFound("deployment '\(name)' not found") }
            return Response.json(describe(d))
        }
        api.get(":name/history") { _, context in
            let name = try context.parameters.require("name")
            let h = try await store.deploymentHistory(named: name)
            guard !h.isEmpty else { throw FlywheelError.notFound("deployment '\(name)' not found") }
            return try APIEncoding.response(["history": h])
        }
        api.put(":name") { request, context in
            let name = try context.parameters.require("name")
            let (spec, text) = try await JSONBody.spec(
                request, limit: maxBodyBytes, kind: "deployment", name: name, parse: DeploymentSpec.parse, nameOf: \.name)
            // A version Flywheel cannot run is refused when applied, never at request time.
            for ref in spec.references {
                guard let v = try? await runtime.registry.resolve(ref) else { continue }
                if let problem = await ServableCheck.problem(with: v, reference: ref, store: store, blobs: runtime.registry.blobs) {
                    throw FlywheelError.failedPrecondition(problem)
                }
            }
            let rev = try await store.applyDeployment(
                name: name, spec: text, actor: request.headers[APIEncoding.actorHeader] ?? "api", at: SystemWallClock().now())
            await runtime.refresh()
            return Response.json(describe(rev))
        }
        api.delete(":name") { request, context in
            let name = try context.parameters.require("name")
            let rev = try await store.deleteDeployment(named: name, actor: request.headers[APIEncoding.actorHeader] ?? "api", at: SystemWallClock().now())
            await runtime.refresh()
            return Response.json(.object(["name": .string(name), "revision": .number(Double(rev.revision)), "deleted": .bool(true)]))
        }
    }

    func describe(_ d: DeploymentRevision) -> JSONValue {
        var o: [String: JSONValue] = [
            "name": .string(d.name), "revision": .number(Double(d.revision)), "spec": .string(d.spec), "applied_by": .string(d.actor),
            "applied_at": .string(d.time.description),
        ]
        if let p = runtime.plan(d.name) {
            o["routes"] = .array(p.routes.map { r in
                var x: [String: JSONValue] = ["model": .string(r.reference), "weight": .number(r.weight)]
                if let m = r.model { x["version"] = .number(Double(m.version)) }
                if let problem = r.problem { x["problem"] = .string(problem) }
                return .object(x)
            })
            o["shadow"] = .array(p.shadows.map { .object(["model": .string($0.reference), "version": .number(Double($0.model.version))]) })
            o["serving_revision"] = .number(Double(p.revision))
        }
        if let problem = runtime.problems[d.name] { o["problem"] = .string(problem) }
        return .object(o)
    }
}
