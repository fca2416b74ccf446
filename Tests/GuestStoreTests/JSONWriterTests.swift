import Foundation
import GuestStore
import Testing

@Suite("JSONWriter")
struct JSONWriterTests {
    func written(_ body: (inout JSONWriter) -> Void) -> String {
        var writer = JSONWriter()
        body(&writer)
        return String(decoding: writer.bytes, as: UTF8.self)
    }

    @Test(arguments: [
        ("say \"hi\"", #""say \"hi\"""#),
        ("back\\slash", #""back\\slash""#),
        ("\n\r\t", #""\n\r\t""#),
        ("\u{0}\u{1}\u{1f}", #""\u0000\u0001\u001f""#),
        ("\u{7f}é😀", "\"\u{7f}é😀\""),
        ("\u{2028}\u{2029}", #""\u2028\u2029""#),
        ("<a href=\"/x\">&amp;</a>", #""<a href=\"/x\">&amp;</a>""#),
    ])
    func escapesAsGoWithoutHTMLEscaping(input: String, expected: String) throws {
        let json = written { $0.string(input) }
        #expect(json == expected)
        #expect(try JSONDecoder().decode(String.self, from: Data(json.utf8)) == input)
    }

    @Test func invalidUTF8BecomesReplacementCharacters() {
        let json = written { $0.string(utf8: [0x61, 0xff, 0x62, 0xc3]) }
        #expect(Array(json.utf8) == [0x22, 0x61, 0xef, 0xbf, 0xbd, 0x62, 0xef, 0xbf, 0xbd, 0x22])
    }

    @Test func objectsHaveSortedKeysAndArraysKeepOrder() {
        #expect(written { $0.object(["b": "1", "a": "<2>", "c": ""]) } == #"{"a":"<2>","b":"1","c":""}"#)
        #expect(written { $0.array(["z", "a"]) } == #"["z","a"]"#)
        #expect(written { $0.object([:]) } == "{}")
    }
}
