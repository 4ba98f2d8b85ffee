"""Which subscription documents may share one execution among every viewer.

A shared execution runs once per event for all subscribers with the same document and
variables, as an anonymous caller (see :mod:`core.gql.fanout`). That is only right when
nothing in the answer depends on who asks. We prove it from the document and the schema,
conservatively — any doubt keeps the subscriber on its own execution, as before:

- the subscription's root field is declared viewer-independent by its component
  (``metadata=VIEWER_INDEPENDENT``): its generator builds each payload from the published
  message and its arguments alone, never from the caller;
- every other selected field is a plain attribute of that payload (no resolver, no
  permission classes, no field extensions), ``__typename``, a ``Node``'s ``id``, or a field
  its owner also declared viewer-independent.

Anything with a resolver (a masked name, ``isMine``, a host-only URL, a shelf "as this
subscriber sees it", a loader that might price per member) is viewer-dependent by default.
The rule is a pure function of (schema, document): one answer per document, cached.
"""

from __future__ import annotations

from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    get_named_type,
)

#: ``strawberry.field(metadata=VIEWER_INDEPENDENT)``: the field's value never depends on the caller.
VIEWER_INDEPENDENT = {"viewer_independent": True}
DEFINITION = "strawberry-definition"


def shareable(schema: GraphQLSchema, document: DocumentNode, operation_name: str | None) -> bool:
    """Whether the operation is a subscription whose every payload is the same for every viewer."""
    operation = _operation(document, operation_name)
    if operation is None or operation.operation != OperationType.SUBSCRIPTION:
        return False
    root = schema.subscription_type
    if root is None:
        return False
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    walker = _Walker(schema, fragments)
    return walker.selection(root, operation.selection_set, root=True)


def _operation(document: DocumentNode, name: str | None) -> OperationDefinitionNode | None:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if name is None:
        return operations[0] if len(operations) == 1 else None
    return next((o for o in operations if o.name is not None and o.name.value == name), None)


def _declared(field: Any) -> bool:
    definition = field.extensions.get(DEFINITION) if field.extensions else None
    metadata = getattr(definition, "metadata", None) or {}
    return bool(metadata.get("viewer_independent"))


def _plain(field: Any) -> bool:
    """A strawberry field that returns an attribute of its object and checks nothing."""
    definition = field.extensions.get(DEFINITION) if field.extensions else None
    if definition is None:
        return False
    return definition.base_resolver is None and not definition.permission_classes and not definition.extensions


class _Walker:
    def __init__(self, schema: GraphQLSchema, fragments: dict[str, Any]) -> None:
        self.schema = schema
        self.fragments = fragments
        self.visiting: set[str] = set()  # fragment names on the current path (a cycle is invalid anyway)

    def selection(self, parent: Any, selection_set: SelectionSetNode | None, *, root: bool = False) -> bool:
        if selection_set is None:
            return True
        for node in selection_set.selections:
            if isinstance(node, FieldNode):
                if not self.field(parent, node, root=root):
                    return False
            elif isinstance(node, InlineFragmentNode):
                target = self.schema.get_type(node.type_condition.name.value) if node.type_condition else parent
                if target is None or not self.selection(target, node.selection_set, root=root):
                    return False
            elif isinstance(node, FragmentSpreadNode):
                name = node.name.value
                fragment = self.fragments.get(name)
                if fragment is None or name in self.visiting:
                    return False
                target = self.schema.get_type(fragment.type_condition.name.value)
                self.visiting.add(name)
                try:
                    if target is None or not self.selection(target, fragment.selection_set, root=root):
                        return False
                finally:
                    self.visiting.discard(name)
            else:
                return False
        return True

    def field(self, parent: Any, node: FieldNode, *, root: bool) -> bool:
        name = node.name.value
        if name == "__typename":
            return True
        if name.startswith("__") or not isinstance(parent, GraphQLObjectType):
            return False  # an interface's or union's members may resolve it differently
        field = parent.fields.get(name)
        if field is None:
            return False  # strawberry reports the mistake on the subscriber's own path
        if root:
            ok = _declared(field)
        elif name == "id" and any(i.name == "Node" for i in getattr(parent, "interfaces", ())):
            ok = True  # the global id of the object's key: the same for everyone
        else:
            ok = _plain(field) or _declared(field)
        if not ok:
            return False
        target = get_named_type(field.type)
        if node.selection_set is None:
            return True
        if not isinstance(target, GraphQLObjectType):
            return False  # interfaces and unions: their members' fields are not checked here
        return self.selection(target, node.selection_set)
