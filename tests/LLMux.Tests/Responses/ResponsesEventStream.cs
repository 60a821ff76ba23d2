using System.Runtime.CompilerServices;
using System.Text.Json;

namespace LLMux.Tests.Responses;

/// <summary>A Responses SSE body split into its events, with the invariants every stream must keep.</summary>
internal sealed class ResponsesEventStream
{
    public List<(string Event, JsonElement Data)> Events { get; } = [];

    public static ResponsesEventStream Parse(string body)
    {
        var stream = new ResponsesEventStream();
        foreach (var frame in body.Split("\n\n", StringSplitOptions.RemoveEmptyEntries))
        {
            string? name = null, data = null;
            foreach (var line in frame.Split('\n'))
            {
                if (line.StartsWith("event: ", StringComparison.Ordinal)) name = line[7..];
                else if (line.StartsWith("data: ", StringComparison.Ordinal)) data = line[6..];
            }
            Assert.NotNull(data);
            Assert.NotNull(name); // OpenAI frames name every event
            stream.Events.Add((name!, JsonDocument.Parse(data!).RootElement.Clone()));
        }
        return stream;
    }

    public IEnumerable<string> Types => Events.Select(e => e.Event);

    public JsonElement Single(string type) => Events.Single(e => e.Event == type).Data;

    public JsonElement Terminal => Events[^1].Data;

    /// <summary>type = event name, sequence_number 0,1,2..., one response id, one terminal event at the end, each item added then done once, deltas inside their item.</summary>
    public void AssertWellFormed()
    {
        Assert.True(Events.Count >= 3);
        for (var i = 0; i < Events.Count; i++)
        {
            Assert.Equal(Events[i].Event, Events[i].Data.GetProperty("type").GetString());
            Assert.Equal(i, Events[i].Data.GetProperty("sequence_number").GetInt32());
        }
        Assert.Equal("response.created", Events[0].Event);
        Assert.Equal("response.in_progress", Events[1].Event);
        var terminal = new[] { "response.completed", "response.incomplete", "response.failed" };
        Assert.Single(Events, e => terminal.Contains(e.Event));
        Assert.Contains(Events[^1].Event, terminal);
        var ids = Events.Where(e => e.Data.TryGetProperty("response", out _)).Select(e => e.Data.GetProperty("response").GetProperty("id").GetString()).Distinct().ToList();
        Assert.Single(ids);
        Assert.StartsWith("resp_", ids[0]);
        var open = new Dictionary<int, string>();
        var closed = new HashSet<int>();
        foreach (var (name, data) in Events)
        {
            if (name == "response.output_item.added")
            {
                var index = data.GetProperty("output_index").GetInt32();
                Assert.Equal(open.Count + closed.Count, index); // output_index counts up from 0
                open[index] = data.GetProperty("item").GetProperty("id").GetString()!;
            }
            else if (name == "response.output_item.done")
            {
                var index = data.GetProperty("output_index").GetInt32();
                Assert.True(open.Remove(index, out var id));
                Assert.Equal(id, data.GetProperty("item").GetProperty("id").GetString());
                closed.Add(index);
            }
            else if (data.TryGetProperty("item_id", out var itemId))
            {
                var index = data.GetProperty("output_index").GetInt32();
                Assert.True(open.TryGetValue(index, out var id), $"{name} outside its item");
                Assert.Equal(id, itemId.GetString());
            }
        }
        if (Events[^1].Event != "response.failed")
        {
            Assert.Empty(open); // a failed stream may end inside an item; a finished one closes every item
            var output = Terminal.GetProperty("response").GetProperty("output");
            Assert.Equal(closed.Count, output.GetArrayLength());
        }
    }
}

internal static class ResponsesTestData
{
    public static string Path(string name, [CallerFilePath] string here = "") => System.IO.Path.Combine(System.IO.Path.GetDirectoryName(here)!, "Data", name);

    public static byte[] Read(string name) => File.ReadAllBytes(Path(name));
}
