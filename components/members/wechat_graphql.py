"""``bindWeChatPhone``: a signed-in member binds the phone number WeChat vouches for."""

from __future__ import annotations

from typing import Annotated

import strawberry

from components.members.graphql import Member, load_members
from core.errors import DomainError
from core.gql import Context, Payload, run_mutation, user_error


@strawberry.input(description="Proof of the phone number WeChat vouches for.")
class BindWeChatPhoneInput:
    code: str = strawberry.field(description="The one-time code from the mini-program's `getPhoneNumber` button.")


@strawberry.type(description="The result of bindWeChatPhone.")
class BindWeChatPhonePayload(Payload):
    member: Member | None = strawberry.field(default=None, description="The member with the phone bound; null when refused.")


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Members signed in with WeChat: bind the phone number WeChat vouches for.")
    async def bind_we_chat_phone(
        self,
        info: strawberry.Info,
        input: Annotated[BindWeChatPhoneInput, strawberry.argument(description="The getPhoneNumber code.")],  # noqa: A002
    ) -> BindWeChatPhonePayload:
        ctx: Context = info.context
        service = ctx.kernel.service("members")
        try:
            member_id = ctx.require_member()
            if service.wechat is None:
                raise DomainError("MEMBERS_UNKNOWN_PROVIDER", "WeChat sign-in is not configured for this brand.")
            phone = await service.wechat.phone_number(input.code)  # before the transaction: it is a network call
        except DomainError as error:
            ctx.kernel.check_error_code(error.code)
            return BindWeChatPhonePayload(user_errors=[user_error(error)])

        async def work(tx):  # noqa: ANN001, ANN202
            await service.bind_phone(tx, member_id, phone)
            return {}

        _result, errors = await run_mutation(ctx, work)
        if errors:
            return BindWeChatPhonePayload(user_errors=errors)
        return BindWeChatPhonePayload(member=(await load_members(ctx, [member_id]))[0])
