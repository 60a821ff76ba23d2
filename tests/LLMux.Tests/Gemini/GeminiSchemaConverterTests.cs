using System.Text.Json;
using LLMux.Providers.Gemini;

namespace LLMux.Tests.Gemini;

/// <summary>JSON Schema → Gemini's OpenAPI subset and JSON-Schema flavour, as LiteLLM converts them.</summary>
public sealed class GeminiSchemaConverterTests
{
    public static TheoryData<string, string, string> OpenApi => new()
    {
        {
            "nested objects and arrays keep their structure; additionalProperties and $schema go",
            """{"$schema":"x","type":"object","properties":{"user":{"type":"object","properties":{"tags":{"type":"array","items":{"type":"string"},"minItems":1}},"additionalProperties":false}},"additionalProperties":false}""",
            """{"type":"object","properties":{"user":{"type":"object","properties":{"tags":{"type":"array","items":{"type":"string"},"minItems":1}}}}}"""
        },
        {
            "enums are kept only on strings",
            """{"type":"object","properties":{"s":{"type":"string","enum":["a","b"]},"n":{"type":"integer","enum":[1,2]}}}""",
            """{"type":"object","properties":{"s":{"type":"string","enum":["a","b"]},"n":{"type":"integer"}}}"""
        },
        {
            "anyOf with null: the other members become nullable; title and description move into members",
            """{"type":"object","properties":{"x":{"title":"X","anyOf":[{"type":"integer"},{"type":"null"}]}}}""",
            """{"type":"object","properties":{"x":{"anyOf":[{"type":"integer","nullable":true,"title":"X"}]}}}"""
        },
        {
            "$ref into $defs is inlined, including nested refs",
            """{"$defs":{"A":{"type":"object","properties":{"b":{"$ref":"#/$defs/B"}}},"B":{"type":"string"}},"type":"object","properties":{"a":{"$ref":"#/$defs/A"}}}""",
            """{"type":"object","properties":{"a":{"type":"object","properties":{"b":{"type":"string"}}}}}"""
        },
        {
            "a circular $ref is left as it is (then dropped as an unsupported key) instead of looping",
            """{"$defs":{"N":{"type":"object","properties":{"next":{"$ref":"#/$defs/N"}}}},"$ref":"#/$defs/N"}""",
            """{"type":"object","properties":{"next":{"type":"object"}}}"""
        },
        {
            "unsupported keywords go; formats other than date-time go; empty items become objects; missing type is object",
            """{"type":"object","properties":{"c":{"const":"x","type":"string","format":"uuid","examples":["a"]},"l":{"type":"array","items":{}},"free":{"description":"anything"}}}""",
            """{"type":"object","properties":{"c":{"type":"string"},"l":{"type":"array","items":{"type":"object"}},"free":{"description":"anything","type":"object"}}}"""
        },
        {
            "type arrays with several types become anyOf",
            """{"type":"object","properties":{"v":{"type":["string","integer","null"]}}}""",
            """{"type":"object","properties":{"v":{"anyOf":[{"type":"string","nullable":true},{"type":"integer","nullable":true}]}}}"""
        },
    };

    [Theory]
    [MemberData(nameof(OpenApi))]
    public void Schemas_convert_to_the_openapi_subset(string name, string schema, string expected)
    {
        Assert.NotNull(name);
        using var doc = JsonDocument.Parse(schema);
        GeminiTestContext.AssertJsonEqual(expected, GeminiSchemaConverter.ToOpenApi(doc.RootElement, propertyOrdering: false, "schema"));
    }

    [Fact]
    public void Structured_output_gets_property_ordering_at_every_level()
    {
        using var doc = JsonDocument.Parse("""{"type":"object","properties":{"z":{"type":"object","properties":{"b":{"type":"string"},"a":{"type":"string"}}},"y":{"type":"string"}}}""");
        var node = GeminiSchemaConverter.ToOpenApi(doc.RootElement, propertyOrdering: true, "schema");
        Assert.Equal("""["z","y"]""", node["propertyOrdering"]!.ToJsonString());
        Assert.Equal("""["b","a"]""", node["properties"]!["z"]!["propertyOrdering"]!.ToJsonString());
    }

    [Fact]
    public void The_json_schema_flavour_keeps_keywords_but_inlines_refs()
    {
        using var doc = JsonDocument.Parse("""{"$defs":{"S":{"type":"string","format":"uuid"}},"type":"object","properties":{"id":{"$ref":"#/$defs/S"},"n":{"type":"integer","enum":[1,2]}},"additionalProperties":false,"strict":true}""");
        GeminiTestContext.AssertJsonEqual(
            """{"type":"object","properties":{"id":{"type":"string","format":"uuid"},"n":{"type":"integer","enum":[1,2]}},"additionalProperties":false}""",
            GeminiSchemaConverter.ToJsonSchema(doc.RootElement, "schema"));
    }
}
