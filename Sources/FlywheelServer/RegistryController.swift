import FlywheelCore
import FlywheelRegistry
import FlywheelServing
import Foundation
import HTTPTypes
import Hummingbird

/// The minimal `/api/v1`: registered models, versions and aliases.
struct RegistryController<Context: RequestContext> {
    let registry: ModelRegistry
    let store: any MetadataStore
    let maxBodyBytes: Int

    func addRoutes(to router: Router<Context>) {
        let api = router.group("/api/v1/models")
        api.get { _, _ in
            let models = try await store.listModels()
            var out: [JSONValue] = []
            for m in models {
                let aliases = try await store.aliases(model: m.name)
                out.append(.object([
                    "name": .string(m.name), "description": .string(m.description),
                    "aliases": .object(aliases.mapValues { .number(Double($0)) }),
                ]))
            }
            return Response.json(.object(["models": .array(out)]))
        }
        api.get(":name") { _, context in
            let s = try await registry.summary(try context.parameters.require("name"))
            return try APIEncoding.response(s)
        }
        api.get(":name/versions") { _, context in
            try APIEncoding.response(["versions": try await registry.versions(try context.parameters.require("name"))])
        }
        api.get(":name/versions/:version") { _, context in
            try APIEncoding.response(try await registry.version(try context.parameters.require("name"), try context.parameters.require("version", as: Int.self)))
        }
        api.put(":name/aliases/:alias") { request, context in
            var request = request
            let body = try await JSONBody.json(&request, limit: maxBodyBytes)
            let b: AliasBody
            do { b = try JSONDecoder().decode(AliasBody.self, from: body) } catch {
                throw FlywheelError.invalidArgument("expected {\"version\": N, \"reason\": \"…\"}")
            }
            let name = try context.parameters.require("name"), alias = try context.parameters.require("alias")
            let previous = try await registry.setAlias(alias, model: name, version: b.version, by: APIEncoding.actor(request, reason: b.reason))
            return Response.json(.object([
                "model": .string(name), "alias": .string(alias), "version": .number(Double(b.version)),
                "previous": previous.map { .number(Double($0)) } ?? .null,
            ]))
        }
        api.delete(":name/aliases/:alias") { request, context in
            let name = try context.parameters.require("name"), alias = try context.parameters.require("alias")
            let was = try await registry.deleteAlias(alias, model: name, by: APIEncoding.actor(request, reason: nil))
            return Response.json(.object(["model": .string(name), "alias": .string(alias), "was": .number(Double(was))]))
        }
    }
}

/// Encoding records for `/api/v1` (not the hot path: `JSONEncoder` with snake_case keys).
enum APIEncoding {
    static func response(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        enc.keyEncodingStrategy = .convertToSnakeCase
        enc.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        return Response.json(Array(try enc.encode(value)), status: status)
    }

    static let actorHeader = HTTPField.Name("x-flywheel-actor")!  // invariant: a valid token

    static func actor(_ request: Request, reason: String?) -> Attribution {
        Attribution(actor: request.headers[actorHeader] ?? "api", reason: reason ?? "")
    }
}

struct AliasBody: Decodable {
    var version: Int
    var reason: String?
}
