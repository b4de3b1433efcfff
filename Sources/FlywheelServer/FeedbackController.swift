import FlywheelCore
import FlywheelServing
import Foundation
import Hummingbird

/// `POST /api/v1/feedback`: true labels for logged predictions, `{request_id, label[, index]}` or
/// an array of them, joined to the prediction log for monitoring.
struct FeedbackController<Context: RequestContext> {
    let store: any MetadataStore
    let maxBodyBytes: Int

    func addRoutes(to router: Router<Context>) {
        router.post("/api/v1/feedback") { request, _ in
            var request = request
            let body = try await JSONBody.json(&request, limit: maxBodyBytes)
            let value: JSONValue
            do { value = try JSONValue(parsing: body) } catch let e as FlywheelError {
                throw FlywheelError.invalidArgument("the body is not valid JSON: \(e.message)")
            }
            let items: [JSONValue]
            switch value {
            case .array(let a): items = a
            case .object: items = [value]
            default: throw FlywheelError.invalidArgument("expected {\"request_id\": …, \"label\": …} or an array of them")
            }
            let now = SystemWallClock().now()
            let labels = try items.enumerated().map { i, item in try Self.label(item, at: i, time: now) }
            let matched = try await store.recordFeedback(labels)
            return Response.json(.object(["recorded": .number(Double(labels.count)), "matched": .number(Double(matched))]))
        }
    }

    static func label(_ item: JSONValue, at i: Int, time: Timestamp) throws -> FeedbackLabel {
        guard case .string(let id)? = item["request_id"], !id.isEmpty else {
            throw FlywheelError.invalidArgument("feedback \(i): missing 'request_id' (the id a prediction answered with)")
        }
        guard let label = item["label"], label != .null else { throw FlywheelError.invalidArgument("feedback \(i): missing 'label'") }
        var index = 0
        if let v = item["index"] {
            guard case .number(let d) = v, d >= 0, d == d.rounded() else {
                throw FlywheelError.invalidArgument("feedback \(i): 'index' must be a whole number ≥ 0 (the record's place in its request)")
            }
            index = Int(d)
        }
        return FeedbackLabel(requestID: id, index: index, label: label, time: time)
    }
}
