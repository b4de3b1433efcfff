import FlywheelCore
import FlywheelServing
import FlywheelYAML
import Testing

@Suite struct DeploymentSpecTests {
    @Test func parsesTheDesignExample() throws {
        let yaml = """
            deployment: iris
            routes: [{model: iris@production, weight: 90}, {model: iris@staging, weight: 10}]   # canary
            sticky: {header: x-user-id}
            shadow: [iris@challenger]
            fallback: {model: iris@previous}
            review_below_confidence: 0.6
            log: {sample_rate: 0.1, redact: [email, phone, card]}
            """
        let (spec, problems) = DeploymentSpec.parse(yaml)
        #expect(problems.isEmpty)
        let s = try #require(spec)
        #expect(s.name == "iris")
        #expect(s.routes == [.init(model: "iris@production", weight: 90), .init(model: "iris@staging", weight: 10)])
        #expect(s.stickyHeader == "x-user-id")
        #expect(s.shadow == ["iris@challenger"])
        #expect(s.fallback == .model("iris@previous"))
        #expect(s.reviewBelowConfidence == 0.6)
        #expect(s.log == .init(sampleRate: 0.1, redact: ["email", "phone", "card"]))
        #expect(s.unseenCategories == .missing)
        #expect(s.references == ["iris@production", "iris@staging", "iris@challenger", "iris@previous"])
    }

    @Test func defaultsAndFixedAnswerFallback() throws {
        let (spec, problems) = DeploymentSpec.parse("""
            deployment: d
            routes: [iris/3]
            fallback: {answer: {label: unknown}}
            unseen_categories: reject
            timeout: 250ms
            """)
        #expect(problems.isEmpty)
        let s = try #require(spec)
        #expect(s.routes == [.init(model: "iris/3", weight: 100)])
        #expect(s.fallback == .answer(.object(["label": .string("unknown")])))
        #expect(s.unseenCategories == .reject)
        #expect(s.timeout == .milliseconds(250))
        #expect(s.log.sampleRate == 1)
    }

    @Test func reportsEveryProblemWithItsPlace() {
        let (spec, problems) = DeploymentSpec.parse("""
            deployment: iris
            routes:
              - {model: iris@production, weight: -5}
              - {model: "iris"}
            sticky: {header: x-user}
            shadw: [iris@challenger]
            review_below_confidence: 2
            log: {sample_rate: 0.5, redact: email}
            """)
        #expect(spec == nil)
        let text = problems.map(\.description)
        #expect(text.contains { $0.hasPrefix("3:") && $0.contains("'weight' must be 0 or more") })
        #expect(text.contains { $0.hasPrefix("4:") && $0.contains("model reference 'iris' is not valid") })
        #expect(text.contains { $0.hasPrefix("6:1") && $0.contains("unknown key 'shadw'") && $0.contains("did you mean 'shadow'") })
        #expect(text.contains { $0.hasPrefix("7:") && $0.contains("between 0 and 1") })
        #expect(text.contains { $0.hasPrefix("8:") && $0.contains("'redact' must be a list") })
        #expect(problems.count == 5)
    }

    @Test func missingPartsAndBrokenYAML() {
        let missing = DeploymentSpec.parse("description: nothing here\n").diagnostics.map(\.message)
        #expect(missing.contains { $0.contains("missing 'deployment:'") })
        #expect(missing.contains { $0.contains("missing 'routes:'") })
        let broken = DeploymentSpec.parse("deployment: [unclosed\n").diagnostics
        #expect(broken.count == 1)
        #expect(broken.first?.location != nil)
        #expect(broken.first?.message.hasPrefix("YAML:") == true)
        let zero = DeploymentSpec.parse("deployment: a\nroutes: [{model: a@b, weight: 0}]\n").diagnostics.map(\.message)
        #expect(zero.contains { $0.contains("weight 0") })
    }
}
