import FlywheelUI
import HTTPTypes
import Hummingbird
import NIOCore

/// Mounts the web UI: `/` and the paths under `WebUI.prefixes`, GET and HEAD. The UI answers
/// every request itself (its own 404 and 400 pages), so nothing here can turn a bad id into a 500.
struct UIController: Sendable {
    let ui: WebUI

    func addRoutes(to router: Router<BasicRequestContext>) {
        let handler: @Sendable (Request, BasicRequestContext) async throws -> Response = { request, _ in
            await respond(request)
        }
        router.get("/", use: handler)
        for prefix in WebUI.prefixes {
            router.get(RouterPath("/\(prefix)"), use: handler)
            router.get(RouterPath("/\(prefix)/**"), use: handler)
        }
    }

    func respond(_ request: Request) async -> Response {
        let target = request.uri.string
        let page = await ui.respond(to: UIRequest(target: target, cookie: request.headers[.cookie], referer: request.headers[.referer]))
        var headers = HTTPFields()
        headers[.contentType] = page.contentType
        for (name, value) in page.headers {
            if let field = HTTPField.Name(name) { headers.append(HTTPField(name: field, value: value)) }
        }
        if page.contentType.hasPrefix("text/html") {
            // Pages carry no third-party resource and no inline script: say so to the browser.
            headers[.contentSecurityPolicy] = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'"
            headers[.cacheControl] = "no-store"
        }
        return Response(
            status: HTTPResponse.Status(code: page.status), headers: headers,
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: page.body)))
    }
}
