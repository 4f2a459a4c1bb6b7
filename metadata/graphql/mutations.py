"""Write fields: `updateMetadata`, `updateMetadataBatch`, `createMetadata`, `deleteMetadata`,
`obtainKrakenToken`.

Each resolver authenticates, opens the object for writing, parses the value and hands the
change to `metadata.services`, which checks the rules on the whole document and writes
atomically. Errors are the core's; `metadata.graphql.errors` turns them into Kraken's.
"""

from __future__ import annotations

import graphene
from graphene.types.generic import GenericScalar

from metadata import batches, services, tokens
from metadata.errors import BatchRefused, InvalidCredentials, ItemRefusal, NotJSON
from metadata.graphql.context import (
    charge,
    open_target,
    parse_value,
    principal_of,
    throttle_anonymous,
    write_context,
)
from metadata.graphql.types import (
    DeleteMetadataInput,
    Metadata,
    MetadataInput,
    ObtainJSONWebTokenInput,
    linkable_of,
)
from metadata.permissions import Action

MSG_TOKEN_INPUT = "Send one of: email and password, refreshToken, or APIKey."


def _set(info: graphene.ResolveInfo, data: MetadataInput, *, create_only: bool) -> services.Entry:
    target = open_target(info, data.linked_object_type, data.identifier, Action.WRITE)
    return services.set_key(
        target=target,
        key=data.key,
        value=parse_value(data.value),
        context=write_context(info),
        create_only=create_only,
        expected_digest=data.compare_digest,
    )


class UpdateMetadata(graphene.Mutation):
    """Creates or updates one key of an object's metadata."""

    class Arguments:
        input = MetadataInput(required=True, description="The key and value to write.")

    metadata = graphene.Field(Metadata, description="The key and value as stored.")

    @staticmethod
    def mutate(root: object, info: graphene.ResolveInfo, input: MetadataInput) -> UpdateMetadata:
        return UpdateMetadata(metadata=_set(info, input, create_only=False))


class UpdateMetadataBatch(graphene.Mutation):
    """Creates or updates 1 to 100 keys, of any objects of any types, all or nothing."""

    class Arguments:
        input = graphene.List(
            graphene.NonNull(MetadataInput),
            required=True,
            description="The keys and values to write: 1 to 100 pairs. Pairs of one object "
            "apply in order; the size rule holds for its document with all of them.",
        )

    metadata = graphene.List(
        graphene.NonNull(Metadata),
        required=True,
        description="Each pair as stored, in the order of the input.",
    )

    @staticmethod
    def mutate(
        root: object, info: graphene.ResolveInfo, input: list[MetadataInput]
    ) -> UpdateMetadataBatch:
        principal = principal_of(info)
        charge(info, len(input) - 1)  # the request itself was counted as one
        items, refusals = [], []
        for index, pair in enumerate(input):
            try:
                value = parse_value(pair.value)
            except NotJSON as error:  # the values' form is checked before any object
                refusals.append(ItemRefusal(index, error))
                continue
            items.append(
                batches.SetItem(
                    linkable=linkable_of(pair.linked_object_type),
                    identifier=pair.identifier,
                    key=pair.key,
                    value=value,
                    expected_digest=pair.compare_digest,
                )
            )
        if refusals:
            raise BatchRefused(refusals)
        written = batches.set_keys(principal=principal, items=items, context=write_context(info))
        return UpdateMetadataBatch(
            metadata=[
                services.Entry(key=item.key, value=each.document[item.key])
                for item, each in zip(items, written, strict=True)
            ]
        )


class CreateMetadata(graphene.Mutation):
    """Creates one key of an object's metadata; KT-CT-8414 if the key already exists."""

    class Arguments:
        input = MetadataInput(required=True, description="The key and value to create.")

    metadata = graphene.Field(Metadata, description="The key and value as stored.")

    @staticmethod
    def mutate(root: object, info: graphene.ResolveInfo, input: MetadataInput) -> CreateMetadata:
        return CreateMetadata(metadata=_set(info, input, create_only=True))


class DeleteMetadata(graphene.Mutation):
    """Removes one key of an object's metadata."""

    class Arguments:
        input = DeleteMetadataInput(required=True, description="The key to remove.")

    metadata = graphene.Field(
        Metadata, description="The removed key and its last value; null if there was none."
    )

    @staticmethod
    def mutate(
        root: object, info: graphene.ResolveInfo, input: DeleteMetadataInput
    ) -> DeleteMetadata:
        target = open_target(info, input.linked_object_type, input.identifier, Action.WRITE)
        removed = services.delete_key(target=target, key=input.key, context=write_context(info))
        return DeleteMetadata(metadata=removed)


class ObtainKrakenToken(graphene.Mutation):
    """Log in: a 60-minute access token and a 7-day refresh token. Needs no token itself."""

    class Meta:
        name = "ObtainKrakenJSONWebToken"

    class Arguments:
        input = ObtainJSONWebTokenInput(
            required=True, description="Email and password, a refresh token, or an API key."
        )

    token = graphene.String(
        required=True, description="The access token: send it as 'Authorization: JWT <token>'."
    )
    payload = GenericScalar(
        required=True, description="The access token's claims: sub, email, exp, origIat."
    )
    refresh_token = graphene.String(
        description="A token that obtains new tokens (input.refreshToken) for 7 days; null "
        "when the token was obtained with an API key."
    )
    refresh_expires_in = graphene.Int(
        description="When the refresh token expires, as a Unix timestamp (as Kraken's); null "
        "when there is none."
    )

    @staticmethod
    def mutate(
        root: object, info: graphene.ResolveInfo, input: ObtainJSONWebTokenInput
    ) -> ObtainKrakenToken:
        throttle_anonymous(info)
        by_password = input.email is not None or input.password is not None
        by_api_key = input.api_key is not None
        if by_password + (input.refresh_token is not None) + by_api_key != 1:
            raise InvalidCredentials(MSG_TOKEN_INPUT)
        if by_api_key:
            return ObtainKrakenToken.for_api_key(input.api_key)
        if by_password:
            user = tokens.user_for_password(input.email or "", input.password or "")
            issued = tokens.issue_tokens(user)
        else:
            issued = tokens.refresh_tokens(input.refresh_token)
        return ObtainKrakenToken(
            token=issued.access,
            payload=issued.payload,
            refresh_token=issued.refresh,
            refresh_expires_in=int(issued.payload["origIat"]) + issued.refresh_expires_in,
        )

    @staticmethod
    def for_api_key(raw_key: str) -> ObtainKrakenToken:
        """A token with the key's partner client's reach, and no refresh token: the key is
        itself the long-lived credential (revoking it ends it and the tokens it earned), so
        a refresh token would only be a second one to steal."""
        api_key = tokens.api_key_for(raw_key)
        client = api_key.client
        access = tokens.access_token_for(client.user, client=client, api_key=api_key)
        return ObtainKrakenToken(
            token=str(access),
            payload=tokens.access_payload(access),
            refresh_token=None,
            refresh_expires_in=None,
        )


class Mutation(graphene.ObjectType):
    """Writes of metadata, and logging in."""

    update_metadata = UpdateMetadata.Field(
        description="Creates or updates one key (account-user level access or CAN_MUTATE_METADATA)."
    )
    update_metadata_batch = UpdateMetadataBatch.Field(
        description="Creates or updates 1 to 100 keys of any objects in one transaction: if "
        "any pair is refused, nothing is written and each refused pair is one error with its "
        "position in extensions.index. N pairs count N against the caller's rate limit."
    )
    create_metadata = CreateMetadata.Field(
        description="Creates one key; KT-CT-8414 if it exists already."
    )
    delete_metadata = DeleteMetadata.Field(
        description="Removes one key; returns the removed pair, or null if there was none."
    )
    obtain_kraken_token = ObtainKrakenToken.Field(
        description="Obtains an access token (and a refresh token) from an email address and "
        "password, or from a refresh token; or an access token alone from a partner client's "
        "API key."
    )
