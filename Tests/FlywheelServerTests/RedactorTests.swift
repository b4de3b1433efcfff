import FlywheelCore
import FlywheelServing
import Testing

@Suite struct RedactorTests {
    @Test(arguments: [
        ("4111111111111111", true), ("4111 1111 1111 1111", true), ("5555-5555-5555-4444", true), ("378282246310005", true),
        ("4111111111111112", false), ("1234567812345678", false),
    ])
    func luhn(_ number: String, _ valid: Bool) {
        #expect(Redactor.luhn(number.compactMap(\.wholeNumberValue)) == valid)
    }

    @Test func redactsPatternsInsideText() {
        let r = Redactor(rules: ["email", "phone", "card"])
        #expect(r.redact("mail jane.doe+x@example.co.uk now") == "mail [email] now")
        #expect(r.redact("card 4111 1111 1111 1111 exp 12/29") == "card [card] exp 12/29")
        #expect(r.redact("call +1 (555) 010-9999 today") == "call [phone] today")
        #expect(r.redact("call 555-0199") == "call [phone]")
        // Short numbers, identifiers and a 16-digit number failing Luhn (too long for a phone) stay.
        #expect(r.redact("order 12345 of sku ab1234567890") == "order 12345 of sku ab1234567890")
        #expect(r.redact("ref 4111111111111112") == "ref 4111111111111112")
        #expect(r.redact("not an address: a@b") == "not an address: a@b")
    }

    @Test func onlyTheAskedRulesApply() {
        let cardsOnly = Redactor(rules: ["card"])
        #expect(cardsOnly.redact("x@y.com 4111111111111111 555-0199") == "x@y.com [card] 555-0199")
        #expect(Redactor(rules: []).isEmpty)
    }

    @Test func namedFieldsLoseTheirValue() {
        let r = Redactor(rules: ["customer_name", "email"])
        let out = r.redact(["customer_name": .string("Jane"), "note": .string("jane@x.org"), "amount": .number(3)])
        #expect(out == ["customer_name": .string("[redacted]"), "note": .string("[email]"), "amount": .number(3)])
    }
}
