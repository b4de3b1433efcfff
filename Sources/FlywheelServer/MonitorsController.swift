import FlywheelCore
import FlywheelMonitoring
import FlywheelServing
import Foundation
import Hummingbird

/// `/api/v1/monitors` (list, show with the latest check, apply a YAML body, delete, checks over
/// time) and `/api/v1/alerts` (with the actions each took): what `flywheel monitor` shows, over HTTP.
struct MonitorsController<Context: RequestContext> {
    let store: any MetadataStore
    let maxBodyBytes: Int

    func addRoutes(to router: Router<Context>) {
        let api = router.group("/api/v1/monitors")
        api.get { _, _ in
            var out: [JSONValue] = []
            for m in try await store.listMonitors() { out.append(try await describe(m)) }
            return Response.json(.object(["monitors": .array(out)]))
        }
        api.get(":name") { _, context in
            Response.json(try await describe(try await monitor(try context.parameters.require("name"))))
        }
        api.get(":name/checks") { request, context in
            let name = try context.parameters.require("name")
            _ = try await monitor(name)
            let limit = try Self.limit(request, default: 100)
            return try APIEncoding.response(["checks": try await store.monitorChecks(monitor: name, since: nil, limit: limit)])
        }
        api.put(":name") { request, context in
            let name = try context.parameters.require("name")
            let (_, text) = try await JSONBody.spec(
                request, limit: maxBodyBytes, kind: "monitor", name: name, parse: MonitorSpec.parse, nameOf: \.name)
            let record = try await store.applyMonitor(name: name, spec: text, actor: request.headers[APIEncoding.actorHeader] ?? "api", at: SystemWallClock().now())
            return Response.json(try await describe(record))
        }
        api.delete(":name") { _, context in
            let name = try context.parameters.require("name")
            try await store.deleteMonitor(named: name)
            return Response.json(.object(["name": .string(name), "deleted": .bool(true)]))
        }

        router.get("/api/v1/alerts") { request, _ in
            let params = request.uri.queryParameters
            var state: AlertState?
            if let s = params.get("state") {
                guard let parsed = AlertState(rawValue: s) else { throw FlywheelError.invalidArgument("state '\(s)' is not valid: expected firing or resolved") }
                state = parsed
            }
            let limit = try Self.limit(request, default: 50)
            var out: [AlertEntry] = []
            for a in try await store.alerts(monitor: params.get("monitor"), state: state, limit: limit) {
                out.append(AlertEntry(alert: a, actions: try await store.alertActions(alertID: a.id)))
            }
            return try APIEncoding.response(["alerts": out])
        }
    }

    struct AlertEntry: Encodable {
        var alert: Alert
        var actions: [AlertActionRecord]
    }

    static func limit(_ request: Request, default value: Int) throws -> Int {
        guard let text = request.uri.queryParameters.get("limit") else { return value }
        guard let n = Int(text), (1...10_000).contains(n) else { throw FlywheelError.invalidArgument("limit '\(text)' is not a whole number from 1 to 10000") }
        return n
    }

    func monitor(_ name: String) async throws -> MonitorRecord {
        guard let m = try await store.monitor(named: name) else { throw FlywheelError.notFound("monitor '\(name)' not found") }
        return m
    }

    func describe(_ m: MonitorRecord) async throws -> JSONValue {
        var o: [String: JSONValue] = [
            "name": .string(m.name), "spec": .string(m.spec), "applied_by": .string(m.actor), "created_at": .string(m.createdAt.description),
            "updated_at": .string(m.updatedAt.description),
        ]
        if let spec = MonitorSpec.parse(m.spec).spec {
            o["deployment"] = spec.deployment.map(JSONValue.string) ?? .null
            o["every_seconds"] = spec.every.map(JSONValue.number) ?? .null
            o["rules"] = .array(spec.activeRules.map(JSONValue.string))
        }
        if let last = try await store.monitorChecks(monitor: m.name, since: nil, limit: 1).last {
            o["last_check"] = .object([
                "id": .number(Double(last.id)), "time": .string(last.time.description), "status": .string(last.status.rawValue),
                "message": .string(last.message), "breached_rules": .array(last.breachedRules.map(JSONValue.string)),
            ])
        }
        o["firing"] = .array(try await store.alerts(monitor: m.name, state: .firing, limit: 100).map { .string($0.rule) })
        return .object(o)
    }
}
