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
        // Dates, times after them and decimal numbers are not phone numbers; phones written with points are.
        #expect(r.redact("due 2026-11-29 15:30, paid 29.11.2026, 03-12-2025") == "due 2026-11-29 15:30, paid 29.11.2026, 03-12-2025")
        #expect(r.redact("pi is 3.14159265, e is 2.718281828, total 1234567.89") == "pi is 3.14159265, e is 2.718281828, total 1234567.89")
        #expect(r.redact("call 555.010.9999 or +47 22 33 44 55") == "call [phone] or [phone]")
        // Not a date (month 13): a phone; a date followed by a phone: each as it is.
        #expect(r.redact("2026-13-29") == "[phone]")
        #expect(r.redact("on 2026-11-29 call 555-0199") == "on 2026-11-29 call [phone]")
        // Inside a longer run of digits, in brackets, at the end of a sentence.
        #expect(r.redact("(2026-11-29) (1234567.89) due 2026-11-29.") == "(2026-11-29) (1234567.89) due 2026-11-29.")
        #expect(r.redact("invoice 42 2026-11-29, paid 1234.56 2026-11-29") == "invoice 42 2026-11-29, paid 1234.56 2026-11-29")
        #expect(r.redact("ratings 1.5 2.5 3.5 4.5") == "ratings 1.5 2.5 3.5 4.5")
        #expect(r.redact("call 555.0199 or 555-0199 2026-11-29") == "call [phone] or [phone] 2026-11-29")
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
