using System.Globalization;
using System.Text;
using System.Text.Json;
using LLMux.Pipeline.Context;

namespace LLMux.Providers.Modes;

/// <summary>One timed word of a transcript from a provider that gives word timings (Deepgram, ElevenLabs).</summary>
public readonly record struct TimedWord(string Word, double Start, double End);

/// <summary>
/// Writes a transcript from a provider of its own (Deepgram, ElevenLabs) in the OpenAI <c>response_format</c> asked for:
/// json <c>{text, usage{type: duration, seconds}}</c>; verbose_json <c>{task, language, duration, text, words?, segments}</c>
/// (words when asked for with <c>timestamp_granularities[]=word</c>, segments built from the word timings); text as
/// <c>text/plain</c>; srt and vtt cues built from the word timings. Sets the answer's Content-Type on the request.
/// </summary>
public static class TranscriptWriter
{
    private const int WordsPerCue = 12;
    private const double CueGap = 1.0;

    public static PooledBuffer Write(TranscriptionRequest upload, string text, string language, double? duration, IReadOnlyList<TimedWord> words)
    {
        var answer = new PooledBuffer(text.Length * 2 + words.Count * 64 + 256);
        switch (upload.Format)
        {
            case "text":
                upload.AnswerContentType = "text/plain; charset=utf-8";
                answer.Write(Encoding.UTF8.GetBytes(text + "\n"));
                return answer;
            case "srt":
            case "vtt":
                upload.AnswerContentType = "text/plain; charset=utf-8";
                answer.Write(Encoding.UTF8.GetBytes(Subtitles(Cues(text, duration, words), upload.Format == "vtt")));
                return answer;
        }
        upload.AnswerContentType = "application/json";
        using var w = new Utf8JsonWriter(answer);
        w.WriteStartObject();
        if (upload.Format == "verbose_json")
        {
            w.WriteString("task"u8, upload.Translation ? "translate"u8 : "transcribe"u8);
            w.WriteString("language"u8, language);
            if (duration is { } d) w.WriteNumber("duration"u8, d);
            w.WriteString("text"u8, text);
            if (upload.Granularities.Contains("word"))
            {
                w.WriteStartArray("words"u8);
                foreach (var word in words)
                {
                    w.WriteStartObject();
                    w.WriteString("word"u8, word.Word);
                    w.WriteNumber("start"u8, word.Start);
                    w.WriteNumber("end"u8, word.End);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
            }
            w.WriteStartArray("segments"u8);
            var id = 0;
            foreach (var cue in Cues(text, duration, words))
            {
                w.WriteStartObject();
                w.WriteNumber("id"u8, id++);
                w.WriteNumber("start"u8, cue.Start);
                w.WriteNumber("end"u8, cue.End);
                w.WriteString("text"u8, cue.Text);
                w.WriteEndObject();
            }
            w.WriteEndArray();
        }
        else w.WriteString("text"u8, text);
        if (duration is { } seconds)
        {
            w.WriteStartObject("usage"u8);
            w.WriteString("type"u8, "duration"u8);
            w.WriteNumber("seconds"u8, seconds);
            w.WriteEndObject();
        }
        w.WriteEndObject();
        w.Flush();
        return answer;
    }

    private readonly record struct Cue(double Start, double End, string Text);

    /// <summary>Cues of at most <see cref="WordsPerCue"/> words, split where the speech pauses; the whole text in one cue without word timings.</summary>
    private static List<Cue> Cues(string text, double? duration, IReadOnlyList<TimedWord> words)
    {
        var cues = new List<Cue>();
        if (words.Count == 0)
        {
            if (text.Length > 0) cues.Add(new Cue(0, duration ?? 0, text));
            return cues;
        }
        var start = 0;
        for (var i = 1; i <= words.Count; i++)
        {
            if (i < words.Count && i - start < WordsPerCue && words[i].Start - words[i - 1].End < CueGap) continue;
            var sb = new StringBuilder();
            for (var k = start; k < i; k++) sb.Append(k > start ? " " : "").Append(words[k].Word);
            cues.Add(new Cue(words[start].Start, words[i - 1].End, sb.ToString()));
            start = i;
        }
        return cues;
    }

    private static string Subtitles(List<Cue> cues, bool vtt)
    {
        var sb = new StringBuilder(vtt ? "WEBVTT\n\n" : "");
        for (var i = 0; i < cues.Count; i++)
        {
            if (!vtt) sb.Append(i + 1).Append('\n');
            sb.Append(Time(cues[i].Start, vtt)).Append(" --> ").Append(Time(cues[i].End, vtt)).Append('\n').Append(cues[i].Text).Append("\n\n");
        }
        return sb.ToString();
    }

    private static string Time(double seconds, bool vtt)
    {
        var t = TimeSpan.FromMilliseconds(Math.Round(seconds * 1000));
        return string.Create(CultureInfo.InvariantCulture, $"{(int)t.TotalHours:00}:{t.Minutes:00}:{t.Seconds:00}{(vtt ? '.' : ',')}{t.Milliseconds:000}");
    }
}
