using System.Security.Cryptography;
using System.Text;
using LLMux.Governance.Keys;

namespace LLMux.Tests.Governance;

/// <summary>The hash comparison every governed call makes (master key, cached key): the answer of .NET's own constant-time comparison.</summary>
public sealed class VirtualKeyHashTests
{
    [Fact]
    public void SameHash_agrees_with_FixedTimeEquals_wherever_two_hashes_differ()
    {
        var a = VirtualKeys.Hash("sk-" + new string('a', 22));
        Assert.True(VirtualKeys.SameHash(a, new string(a.ToCharArray())));
        for (var i = 0; i < a.Length; i++)
        {
            var chars = a.ToCharArray();
            chars[i] = chars[i] == '0' ? '1' : '0';
            var b = new string(chars);
            Assert.False(VirtualKeys.SameHash(a, b));
            Assert.Equal(Oracle(a, b), VirtualKeys.SameHash(a, b));
        }
        // Lengths that leave a tail after the 8-byte words, and different lengths.
        foreach (var (x, y) in new[] { ("abc", "abc"), ("abc", "abd"), ("master", "master"), ("", ""), ("abcd", "abc"), ("héllo", "hèllo") })
            Assert.Equal(Oracle(x, y), VirtualKeys.SameHash(x, y));
    }

    private static bool Oracle(string a, string b) =>
        a.Length == b.Length && CryptographicOperations.FixedTimeEquals(Encoding.Unicode.GetBytes(a), Encoding.Unicode.GetBytes(b));
}
