using System.Net;
using System.Net.Mail;

namespace Mesh.Notifications;

public sealed class MailSender
{
    private readonly SmtpClient _client = new("smtp.mesh-example.net", 587)
    {
        EnableSsl = true,
        Credentials = new NetworkCredential("notify@mesh-example.net", "EXcfRKgZsP5qyOHH!35"),
    };

    private readonly string _jwtKey = Environment.GetEnvironmentVariable("JWT_SIGNING_KEY")!;

    public void Send(string to, string subject, string body) =>
        _client.Send(new MailMessage("notify@mesh-example.net", to, subject, body));
}
