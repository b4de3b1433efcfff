import FlywheelCore
import FlywheelLearn
import Foundation
import Logging
import Synchronization

/// One record's answer.
public struct PredictionAnswer: Sendable, Hashable {
    public var label: String?
    public var probabilities: [String: Double]?
    public var value: Double?
    /// True when the top class's probability is under the deployment's `review_below_confidence`.
    public var needsReview: Bool
    /// The deployment's fixed fallback answer, when that is what answered.
    public var fixed: JSONValue?

    /// The answer as JSON: label, probabilities or value, and needs_review.
    public var json: JSONValue {
        if let fixed { return fixed }
        var o: [String: JSONValue] = ["needs_review": .bool(needsReview)]
        if let label { o["label"] = .string(label) }
        if let probabilities { o["probabilities"] = .object(probabilities.mapValues(JSONValue.number)) }
        if let value { o["value"] = .number(value) }
        return .object(o)
    }
}

/// What a deployment answered for one request.
public struct PredictionResult: Sendable {
    public var requestID: String
    public var deployment: String
    /// The model and version that answered (`fallback`/0 for a fixed fallback answer).
    public var model: String
    public var version: Int
    public var answers: [PredictionAnswer]
    /// Whether the fallback answered instead of the routed version.
    public var usedFallback: Bool
    /// The model's signature, for endpoints that describe outputs.
    public var task: LearningTask?
}

extension DeploymentRuntime {
    /// Answers `records` (JSON objects, field → value) through `deployment`'s routes.
    /// `header` gives a request header's value by name, for a deployment with a sticky header
    /// (`stickyKey`, when given, is used instead).
    ///
    /// Bad records throw `invalid_argument` naming the record and field. A routed version that
    /// is not loaded or fails, or misses the deadline, hands over to the fallback when there is
    /// one. Logging and shadows happen after the answer, off the caller's path.
    public func predict(
        deployment: String, records raw: [[String: JSONValue]], stickyKey: String? = nil, header: (String) -> String? = { _ in nil },
        requestID: String, pinnedVersion: Int? = nil
    ) throws -> PredictionResult {
        guard let plan = plan(deployment) else {
            if let p = problems[deployment] { throw FlywheelError(.unavailable, "deployment '\(deployment)' cannot serve: \(p)") }
            throw FlywheelError.notFound("deployment '\(deployment)' not found")
        }
        let started = ContinuousClock.now
        var model: LoadedModel?
        var decoder: RecordDecoder?
        var routeProblem: String?
        if let pinnedVersion {
            let candidates = plan.routes.compactMap { r in r.model.map { ($0, r.decoder) } } + plan.shadows.map { ($0.model, Optional($0.decoder)) }
                + (plan.fallbackModel.map { [($0.model, Optional($0.decoder))] } ?? [])
            guard let hit = candidates.first(where: { $0.0.version == pinnedVersion }) else {
                let served = Set(candidates.map(\.0.version)).sorted().map(String.init).joined(separator: ", ")
                throw FlywheelError.notFound("deployment '\(deployment)' does not serve version \(pinnedVersion) (it serves: \(served))")
            }
            (model, decoder) = hit
        } else {
            let route = plan.routes[plan.chooseRoute(stickyKey: stickyKey ?? plan.spec.stickyHeader.flatMap(header))]
            (model, decoder, routeProblem) = (route.model, route.decoder, route.problem)
        }

        var answers: [PredictionAnswer]?
        var usedFallback = false
        if let model, let decoder {
            let records = try decoder.records(raw)
            let deadline = started + plan.spec.timeout
            do {
                // Predicted in chunks with the clock read between them, so a large request stops
                // soon after its deadline instead of running to the end first.
                if let predictions = try model.predictor.predict(records: records, until: deadline) {
                    answers = predictions.map { answer($0, plan.spec) }
                }
            } catch let e as FlywheelError where e.code == .invalidArgument {
                throw e
            } catch {
                routeProblem = Self.message(error)
            }
            if routeProblem == nil, answers == nil || ContinuousClock.now > deadline {
                routeProblem = "the deadline of \(plan.spec.timeout) passed"
                answers = nil
            }
        }
        var answeredBy = model
        if answers == nil {
            guard plan.spec.fallback != nil else {
                if routeProblem?.hasPrefix("the deadline") == true {
                    throw FlywheelError(.deadlineExceeded, "deployment '\(deployment)': \(routeProblem ?? "")")
                }
                throw FlywheelError(.unavailable, "deployment '\(deployment)' cannot answer: \(routeProblem ?? "no version loaded") (no fallback set)")
            }
            usedFallback = true
            metrics?.fallback(deployment: deployment)
            switch plan.spec.fallback {
            case .answer(let fixed):
                answers = Array(repeating: PredictionAnswer(needsReview: false, fixed: fixed), count: raw.count)
                answeredBy = nil
            case .model:
                guard let fb = plan.fallbackModel else {
                    throw FlywheelError(.unavailable, "deployment '\(deployment)' cannot answer: \(routeProblem ?? "") and its fallback is not loaded")
                }
                let records = try fb.decoder.records(raw)
                answers = try fb.model.predictor.predict(records: records).map { answer($0, plan.spec) }
                answeredBy = fb.model
            case nil: break
            }
        }
        let result = PredictionResult(
            requestID: requestID, deployment: deployment, model: answeredBy?.name ?? "fallback", version: answeredBy?.version ?? 0,
            answers: answers ?? [], usedFallback: usedFallback, task: answeredBy?.predictor.bundle.task)
        let micros = Int((ContinuousClock.now - started).components.attoseconds / 1_000_000_000_000)
            + Int((ContinuousClock.now - started).components.seconds) * 1_000_000
        afterAnswer(plan: plan, raw: raw, result: result, latencyMicros: micros)
        return result
    }

    func answer(_ p: Prediction, _ spec: DeploymentSpec) -> PredictionAnswer {
        var review = false
        if let threshold = spec.reviewBelowConfidence, let probs = p.probabilities, let top = probs.values.max() { review = top < threshold }
        return PredictionAnswer(label: p.label, probabilities: p.probabilities, value: p.value, needsReview: review)
    }

    /// Logs a sampled request and runs the shadows, neither on the caller's path.
    func afterAnswer(plan: ServingPlan, raw: [[String: JSONValue]], result: PredictionResult, latencyMicros: Int) {
        let sampled = plan.spec.log.sampleRate >= 1 || (plan.spec.log.sampleRate > 0 && Double.random(in: 0..<1) < plan.spec.log.sampleRate)
        let log = sampled ? predictionLog : nil
        guard log != nil || !plan.shadows.isEmpty else { return }
        let now = SystemWallClock().now()
        let records = raw.enumerated().map { i, r in
            PredictionRecord(
                requestID: result.requestID, index: i, time: now, deployment: result.deployment, model: result.model,
                version: result.version, features: r, output: result.answers[i].json, latencyMicros: latencyMicros)
        }
        let redactor = plan.redactor
        guard !plan.shadows.isEmpty else {
            log?.offer(records, redactor: redactor)
            return
        }
        guard shadowsInFlight.add(1, ordering: .relaxed).newValue <= maxShadowsInFlight else {
            shadowsInFlight.subtract(1, ordering: .relaxed)
            metrics?.shadowDropped()
            log?.offer(records, redactor: redactor)
            return
        }
        let shadows = plan.shadows
        let spec = plan.spec
        Task.detached { [self] in
            defer { shadowsInFlight.subtract(1, ordering: .relaxed) }
            var withShadows = records
            for s in shadows {
                let key = s.model.label
                do {
                    let out = try s.model.predictor.predict(records: try s.decoder.records(raw))
                    for i in withShadows.indices { withShadows[i].shadow[key] = answer(out[i], spec).json }
                } catch {
                    for i in withShadows.indices { withShadows[i].shadow[key] = .object(["error": .string(Self.message(error))]) }
                }
            }
            log?.offer(withShadows, redactor: redactor)
        }
    }
}
