using System.Globalization;

namespace LLMux.Load;

/// <summary>Established TCP connections on this machine, read from /proc/net/tcp and tcp6.</summary>
internal static class TcpConnections
{
    private const string Established = "01";

    /// <summary>Connections whose remote end is <paramref name="port"/> (callers' sockets to a server on that port).</summary>
    public static int EstablishedTo(int port)
    {
        var count = 0;
        foreach (var file in new[] { "/proc/net/tcp", "/proc/net/tcp6" })
        {
            if (!File.Exists(file)) continue;
            foreach (var line in File.ReadLines(file).Skip(1))
            {
                // sl local_address rem_address st ...; addresses are HEXIP:HEXPORT.
                var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (fields.Length < 4 || fields[3] != Established) continue;
                var remote = fields[2];
                var remotePort = int.Parse(remote[(remote.LastIndexOf(':') + 1)..], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                if (remotePort == port) count++;
            }
        }
        return count;
    }
}
