using System.Security.Claims;
using System.Security.Cryptography;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Notify.Api.Auth;
using Notify.Core.Auth;
using Notify.Core.Push;

namespace Notify.Api.Apis;

/// <summary>
/// The caller's Web Push subscriptions (one per browser/device). Registering the same endpoint again
/// replaces its keys (idempotent); every id is looked up within the caller's subscriptions.
/// </summary>
internal static class PushSubscriptionsApi
{
    /// <summary>Longest accepted endpoint URL.</summary>
    public const int MaxEndpointLength = 2048;

    public static RouteGroupBuilder MapPushSubscriptionsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/me/push-subscriptions")
            .WithTags("Push")
            .RequireAuthorization(ApiAuth.UserPolicy)
            .ProducesProblem(StatusCodes.Status401Unauthorized);

        api.MapPost("/", SaveAsync)
            .WithName("SavePushSubscription")
            .WithSummary("Registers this browser's push subscription (idempotent by endpoint)")
            .WithDescription("The body is the browser's `PushSubscription.toJSON()`. 201 for a new device, 200 when the endpoint was known (keys replaced); 409 when the caller holds `Push:MaxSubscriptionsPerUser` already.")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status409Conflict);
        api.MapGet("/", ListAsync)
            .WithName("ListPushSubscriptions")
            .WithSummary("The caller's push subscriptions, oldest first");
        api.MapDelete("/{id}", DeleteAsync)
            .WithName("DeletePushSubscription")
            .WithSummary("Removes one push subscription")
            .ProducesProblem(StatusCodes.Status404NotFound);
        return api;
    }

    public static async Task<Results<Created<PushSubscriptionResponse>, Ok<PushSubscriptionResponse>, ValidationProblem, ProblemHttpResult>> SaveAsync(
        PushSubscriptionRequest? body, ClaimsPrincipal user, IPushSubscriptionStore store, IOptions<PushOptions> options,
        TimeProvider time, CancellationToken cancellationToken)
    {
        var (field, message) = Validate(body, options.Value.AllowHttpEndpoints);
        if (field is not null)
        {
            return Problems.Field(field, message!);
        }
        var subscription = new PushSubscription
        {
            Id = PushSubscription.IdOf(body!.Endpoint!),
            UserId = user.GetUserId()!,
            Endpoint = body.Endpoint!,
            P256dh = body.Keys!.P256dh!,
            Auth = body.Keys.Auth!,
            CreatedAt = DateTimeOffset.FromUnixTimeMilliseconds(time.GetUtcNow().ToUnixTimeMilliseconds()),
        };
        var max = options.Value.MaxSubscriptionsPerUser;
        return await store.SaveAsync(subscription, max, cancellationToken) switch
        {
            PushSaveOutcome.Created => TypedResults.Created($"/api/me/push-subscriptions/{subscription.Id}", PushSubscriptionResponse.Of(subscription)),
            PushSaveOutcome.Updated => TypedResults.Ok(PushSubscriptionResponse.Of((await store.ListAsync(subscription.UserId, cancellationToken)).First(s => s.Id == subscription.Id))),
            _ => TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "Too many push subscriptions",
                detail: $"A user may hold at most {max} push subscriptions; delete one first."),
        };
    }

    public static async Task<Ok<PushSubscriptionList>> ListAsync(ClaimsPrincipal user, IPushSubscriptionStore store, CancellationToken cancellationToken) =>
        TypedResults.Ok(new PushSubscriptionList([.. (await store.ListAsync(user.GetUserId()!, cancellationToken)).Select(PushSubscriptionResponse.Of)]));

    public static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(string id, ClaimsPrincipal user, IPushSubscriptionStore store, CancellationToken cancellationToken) =>
        id.Length == 32 && await store.DeleteAsync(user.GetUserId()!, id, cancellationToken)
            ? TypedResults.NoContent()
            : Problems.NotFound("Push subscription");

    /// <summary>The first invalid field with its message, or (null, null).</summary>
    internal static (string? Field, string? Message) Validate(PushSubscriptionRequest? body, bool allowHttp)
    {
        if (body is null)
        {
            return ("body", "A JSON body { endpoint, keys: { p256dh, auth } } is required.");
        }
        if (string.IsNullOrEmpty(body.Endpoint))
        {
            return ("endpoint", "The push service endpoint is required.");
        }
        if (body.Endpoint.Length > MaxEndpointLength)
        {
            return ("endpoint", $"The endpoint may be at most {MaxEndpointLength} characters.");
        }
        if (!Uri.TryCreate(body.Endpoint, UriKind.Absolute, out var uri)
            || !(uri.Scheme == Uri.UriSchemeHttps || (allowHttp && uri.Scheme == Uri.UriSchemeHttp))
            || uri.UserInfo.Length > 0)
        {
            return ("endpoint", allowHttp ? "The endpoint must be an absolute http(s) URL without user info." : "The endpoint must be an absolute https URL without user info.");
        }
        if (body.Keys?.P256dh is not { } p256dh || !IsP256Point(p256dh))
        {
            return ("keys.p256dh", "keys.p256dh must be the browser's uncompressed P-256 public key, base64url (65 bytes).");
        }
        if (body.Keys.Auth is not { } auth || Base64Url.Length(auth) != 16)
        {
            return ("keys.auth", "keys.auth must be the 16-byte authentication secret, base64url.");
        }
        return (null, null);
    }

    private static bool IsP256Point(string text)
    {
        if (Base64Url.Length(text) != 65)
        {
            return false;
        }
        var bytes = Base64Url.Decode(text);
        if (bytes[0] != 4)
        {
            return false;
        }
        try
        {
            using var key = ECDiffieHellman.Create(new ECParameters
            {
                Curve = ECCurve.NamedCurves.nistP256,
                Q = new ECPoint { X = bytes[1..33], Y = bytes[33..] },
            });
            return true;
        }
        catch (CryptographicException)
        {
            return false;
        }
    }

    internal sealed record PushSubscriptionRequest(
        [property: JsonPropertyName("endpoint")] string? Endpoint,
        [property: JsonPropertyName("keys")] PushKeys? Keys);

    internal sealed record PushKeys(
        [property: JsonPropertyName("p256dh")] string? P256dh,
        [property: JsonPropertyName("auth")] string? Auth);

    internal sealed record PushSubscriptionList([property: JsonPropertyName("items")] IReadOnlyList<PushSubscriptionResponse> Items);

    /// <summary>A stored subscription as the API shows it: the request's shape plus id and creation time.</summary>
    internal sealed record PushSubscriptionResponse(
        [property: JsonPropertyName("id")] string Id,
        [property: JsonPropertyName("endpoint")] string Endpoint,
        [property: JsonPropertyName("keys")] PushKeys Keys,
        [property: JsonPropertyName("created_at")] DateTimeOffset CreatedAt)
    {
        public static PushSubscriptionResponse Of(PushSubscription s) => new(s.Id, s.Endpoint, new PushKeys(s.P256dh, s.Auth), s.CreatedAt);
    }
}
