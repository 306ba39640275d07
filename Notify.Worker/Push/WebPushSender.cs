using System.Net;
using System.Text.Json;
using System.Text.Json.Serialization;
using Lib.Net.Http.WebPush;
using Lib.Net.Http.WebPush.Authentication;
using Microsoft.Extensions.Options;
using Notify.Core.Notifications;
using Notify.Core.Push;
using LibSubscription = Lib.Net.Http.WebPush.PushSubscription;
using PushSubscription = Notify.Core.Push.PushSubscription;

namespace Notify.Worker.Push;

/// <summary>
/// Sends one notification to every push subscription of its user (VAPID-signed, RFC 8291 aes128gcm
/// encrypted by Lib.Net.Http.WebPush). Per subscription: 429, 5xx and network errors are retried up to
/// <see cref="PushOptions.MaxAttempts"/> with exponential backoff (the push service's <c>Retry-After</c>
/// wins, both capped by <see cref="PushOptions.MaxBackoff"/>); 404 and 410 delete the subscription; any
/// other answer gives up on that subscription.
/// </summary>
public sealed class WebPushSender : IDisposable
{
    /// <summary>Largest title or body in the payload (characters); push services accept about 4 KiB encrypted.</summary>
    public const int MaxTextLength = 1000;

    private readonly PushServiceClient _client;
    private readonly VapidAuthentication? _vapid;
    private readonly IPushSubscriptionStore _store;
    private readonly PushOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<WebPushSender> _logger;

    /// <summary>How long one request to a push service may take; a timeout counts as a network error (retried).</summary>
    public static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(30);

    private readonly HttpClient _http;

    public WebPushSender(IPushSubscriptionStore store, IOptions<PushOptions> options, TimeProvider time, ILogger<WebPushSender> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _store = store;
        _options = options.Value;
        _time = time;
        _logger = logger;
        _vapid = _options.Enabled
            ? new VapidAuthentication(_options.VapidPublicKey!, _options.VapidPrivateKey!) { Subject = _options.Subject }
            : null;
        // Its own client: the service defaults' resilience handler would retry on top of the bounded retries here.
        var sockets = new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) };
        _http = new HttpClient(_vapid is null ? sockets : new VapidAudienceHandler(_vapid) { InnerHandler = sockets }) { Timeout = RequestTimeout };
        _client = new PushServiceClient(_http)
        {
            // Retries (with Retry-After) are ours, bounded and logged.
            AutoRetryAfter = false,
            DefaultAuthentication = _vapid,
            DefaultTimeToLive = (int)_options.MessageTtl.TotalSeconds,
        };
    }

    /// <summary>The JSON the service worker receives: what it needs to show the notification and open the inbox.</summary>
    public static string Payload(Notification notification)
    {
        ArgumentNullException.ThrowIfNull(notification);
        return JsonSerializer.Serialize(new PushPayload(
            notification.Id,
            notification.Type,
            Cut(notification.Title),
            Cut(notification.Content),
            "/"),
            PushPayloadContext.Default.PushPayload);
    }

    /// <summary>Pushes <paramref name="notification"/> to each of its user's subscriptions; returns how many accepted it.</summary>
    public async Task<int> SendAsync(Notification notification, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(notification);
        var subscriptions = await _store.ListAsync(notification.UserId, cancellationToken);
        var payload = Payload(notification);
        var delivered = 0;
        foreach (var subscription in subscriptions)
        {
            if (await SendOneAsync(notification.Id, subscription, payload, cancellationToken))
            {
                delivered++;
            }
        }
        return delivered;
    }

    private async Task<bool> SendOneAsync(string notificationId, PushSubscription subscription, string payload, CancellationToken cancellationToken)
    {
        var target = new LibSubscription { Endpoint = subscription.Endpoint };
        target.SetKey(PushEncryptionKeyName.P256DH, subscription.P256dh);
        target.SetKey(PushEncryptionKeyName.Auth, subscription.Auth);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await _client.RequestPushMessageDeliveryAsync(target, new PushMessage(payload) { Topic = null }, cancellationToken);
                PushLog.Sent(_logger, notificationId, subscription.Id);
                return true;
            }
            catch (PushServiceClientException ex) when (ex.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.Gone)
            {
                await _store.DeleteByEndpointAsync(subscription.Endpoint, cancellationToken);
                PushLog.Gone(_logger, subscription.Id, subscription.UserId, (int)ex.StatusCode);
                return false;
            }
            catch (Exception ex) when (IsRetryable(ex, out var status, out var retryAfter) && attempt < _options.MaxAttempts)
            {
                var delay = Backoff(attempt, retryAfter);
                PushLog.Retrying(_logger, ex, subscription.Id, attempt, status, delay);
                await Task.Delay(delay, _time, cancellationToken);
            }
            catch (Exception ex) when (ex is PushServiceClientException or HttpRequestException or TaskCanceledException { InnerException: TimeoutException })
            {
                PushLog.GaveUp(_logger, ex, notificationId, subscription.Id, ex is PushServiceClientException p ? (int)p.StatusCode : 0);
                return false;
            }
        }
    }

    /// <summary>The wait before attempt <paramref name="attempt"/> + 1: InitialBackoff · 2^(attempt-1), or Retry-After, capped by MaxBackoff.</summary>
    internal TimeSpan Backoff(int attempt, TimeSpan? retryAfter)
    {
        var exponential = TimeSpan.FromTicks(_options.InitialBackoff.Ticks * (1L << Math.Min(attempt - 1, 20)));
        var wait = retryAfter is { } given && given > exponential ? given : exponential;
        return wait > _options.MaxBackoff ? _options.MaxBackoff : wait;
    }

    private bool IsRetryable(Exception exception, out int status, out TimeSpan? retryAfter)
    {
        status = 0;
        retryAfter = null;
        switch (exception)
        {
            case PushServiceClientException push when push.StatusCode == HttpStatusCode.TooManyRequests || (int)push.StatusCode >= 500:
                status = (int)push.StatusCode;
                retryAfter = push.Headers?.RetryAfter switch
                {
                    { Delta: { } delta } => delta,
                    { Date: { } date } => date - _time.GetUtcNow(),
                    _ => null,
                };
                return true;
            case HttpRequestException:
            case TaskCanceledException { InnerException: TimeoutException }:
                return true;
            default:
                return false;
        }
    }

    private static string? Cut(string? text) => text is { Length: > MaxTextLength } ? text[..MaxTextLength] : text;

    public void Dispose()
    {
        _vapid?.Dispose();
        _http.Dispose();
    }

    internal sealed record PushPayload(
        [property: JsonPropertyName("id")] string Id,
        [property: JsonPropertyName("type")] string? Type,
        [property: JsonPropertyName("title")] string? Title,
        [property: JsonPropertyName("body")] string? Body,
        [property: JsonPropertyName("url")] string Url);
}

/// <summary>
/// Signs each request's VAPID token for the endpoint's full origin. Lib.Net.Http.WebPush builds the
/// <c>aud</c> claim from scheme and host only, which is the origin for push services on the default port
/// (all public ones) but not for one on another port; RFC 8292 §2 asks for the origin.
/// </summary>
internal sealed class VapidAudienceHandler(VapidAuthentication vapid) : DelegatingHandler
{
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (request.RequestUri is { } uri && request.Headers.Authorization?.Scheme == "vapid")
        {
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue(
                "vapid", vapid.GetVapidSchemeAuthenticationHeaderValueParameter(uri.GetLeftPart(UriPartial.Authority)));
        }
        return base.SendAsync(request, cancellationToken);
    }
}

[JsonSerializable(typeof(WebPushSender.PushPayload))]
internal sealed partial class PushPayloadContext : JsonSerializerContext;
