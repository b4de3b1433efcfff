import FlywheelCore
import FlywheelServing
import HTTPTypes
import Hummingbird
import Logging

/// Turns every error into `{"error": {"code", "message"}}` with its HTTP status, in one place:
/// a caller's fault is a 4xx, and only Flywheel's own fault is a 5xx (logged, message generic).
struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let e as FlywheelError {
            if e.code == .internal { context.logger.error("\(request.method) \(request.uri.path): \(e.message) \(e.underlying.map { "\($0)" } ?? "")") }
            let message = e.code == .internal ? "internal error" : e.message
            // The Open Inference Protocol's error body is {"error": "message"}; clients show it as is.
            if request.uri.path.hasPrefix("/v2") {
                return Response.json(.object(["error": .string(message)]), status: Self.status(e.code))
            }
            if Self.isMLflow(request.uri.path) { return Self.mlflow(e.code, message: message) }
            return Self.response(Self.status(e.code), code: e.code.rawValue, message: message)
        } catch let e as any HTTPResponseError where Self.isMLflow(request.uri.path) {
            let name = e.status == .notFound ? "ENDPOINT_NOT_FOUND" : e.status == .contentTooLarge ? "INVALID_PARAMETER_VALUE" : "BAD_REQUEST"
            let message = e.status == .notFound ? "\(request.method) \(request.uri.path) is not an MLflow endpoint this server offers" : e.status.reasonPhrase
            return Response.json(.object(["error_code": .string(name), "message": .string(message)]), status: e.status)
        } catch let e as any HTTPResponseError {
            let code = switch e.status.code {
            case 404: "not_found"
            case 405: "method_not_allowed"
            case 413: "payload_too_large"
            default: "http_\(e.status.code)"
            }
            let message = e.status.code == 413 ? "the body is over the size limit" : ((e as? HTTPError)?.body ?? e.status.reasonPhrase)
            return Self.response(e.status, code: code, message: message)
        } catch {
            context.logger.error("\(request.method) \(request.uri.path): \(error)")
            return Self.response(.internalServerError, code: "internal", message: "internal error")
        }
    }

    static func isMLflow(_ path: String) -> Bool {
        path.hasPrefix("/api/2.0/mlflow") || path.hasPrefix("/ajax-api/2.0/mlflow") || path.hasPrefix("/api/3.0/mlflow")
            || path.hasPrefix("/ajax-api/3.0/mlflow")
    }

    /// MLflow's error body and statuses: `RESOURCE_DOES_NOT_EXIST` 404, the caller's other faults
    /// 400 (its client turns them into `MlflowException`s with these codes), Flywheel's own 500.
    static func mlflow(_ code: FlywheelError.Code, message: String) -> Response {
        let (status, name): (HTTPResponse.Status, String) = switch code {
        case .notFound: (.notFound, "RESOURCE_DOES_NOT_EXIST")
        case .alreadyExists: (.badRequest, "RESOURCE_ALREADY_EXISTS")
        case .malformed: (.badRequest, "BAD_REQUEST")
        case .invalidArgument, .unsupported, .conflict, .failedPrecondition: (.badRequest, "INVALID_PARAMETER_VALUE")
        case .payloadTooLarge: (.contentTooLarge, "INVALID_PARAMETER_VALUE")
        case .unsupportedMediaType: (.unsupportedMediaType, "INVALID_PARAMETER_VALUE")
        case .unavailable: (.serviceUnavailable, "TEMPORARILY_UNAVAILABLE")
        default: (.internalServerError, "INTERNAL_ERROR")
        }
        return Response.json(.object(["error_code": .string(name), "message": .string(message)]), status: status)
    }

    static func status(_ code: FlywheelError.Code) -> HTTPResponse.Status {
        switch code {
        case .notFound: .notFound
        case .invalidArgument, .unsupported, .malformed: .badRequest
        case .alreadyExists, .conflict, .failedPrecondition: .conflict
        case .payloadTooLarge: .contentTooLarge
        case .unsupportedMediaType: .unsupportedMediaType
        case .unavailable: .serviceUnavailable
        case .deadlineExceeded: .gatewayTimeout
        default: .internalServerError
        }
    }

    static func response(_ status: HTTPResponse.Status, code: String, message: String) -> Response {
        var w = JSONWriter()
        w.object([("error", .object(["code": .string(code), "message": .string(message)]))])
        return Response.json(w.bytes, status: status)
    }
}

extension Response {
    static func json(_ bytes: [UInt8], status: HTTPResponse.Status = .ok, headers extra: HTTPFields = [:]) -> Response {
        var headers: HTTPFields = [.contentType: "application/json"]
        headers.append(contentsOf: extra)
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    static func json(_ value: JSONValue, status: HTTPResponse.Status = .ok) -> Response {
        var w = JSONWriter()
        w.value(value)
        return json(w.bytes, status: status)
    }
}
