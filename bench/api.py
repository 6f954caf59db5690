"""The API baseline: a minimal DRF list endpoint (cursor pagination, no COUNT, no filters)."""
from rest_framework import generics, serializers
from rest_framework.pagination import CursorPagination

from .models import BaselineRow


class BaselineRowSerializer(serializers.ModelSerializer):
    class Meta:
        model = BaselineRow
        fields = ["id", "name", "country", "date", "amount", "created_at"]


class BaselinePagination(CursorPagination):
    page_size = 50
    ordering = ("-id",)


class BaselineListView(generics.ListAPIView):
    """GET /bench/baseline/: the plain table, 50 rows a page."""

    queryset = BaselineRow.objects.all()
    serializer_class = BaselineRowSerializer
    pagination_class = BaselinePagination
    filter_backends: list = []
